import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Principal } from '../common/auth/principal';

/** The authenticated caller (set by ApiKeyGuard). */
export const CurrentKey = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => ctx.switchToHttp().getRequest().apiKey);

/** The request id (x-request-id) of the current request. */
export const RequestId = createParamDecorator((_: unknown, ctx: ExecutionContext): string | undefined => {
  const id = ctx.switchToHttp().getRequest().id;
  return id === undefined ? undefined : String(id);
});
