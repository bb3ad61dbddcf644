import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { RequestMethod } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { PUBLIC_METADATA, Role, ROLES, ROLES_METADATA } from '../../src/common/auth/roles';
import { startStack, TestRole, TestStack } from '../utils/test-stack';

interface RouteRule {
  method: string;
  path: string;
  handler: string;
  public: boolean;
  roles: Role[] | null;
}

/** Every route Express serves (the router is the source of truth), skipping the OpenAPI UI. */
function expressRoutes(stack: TestStack): { method: string; path: string }[] {
  const express = stack.app.getHttpAdapter().getInstance() as { router?: { stack: any[] }; _router?: { stack: any[] } };
  const layers = (express.router ?? express._router)!.stack;
  const out: { method: string; path: string }[] = [];
  for (const layer of layers) {
    if (!layer.route) continue;
    const path: string = layer.route.path;
    if (path.startsWith('/docs')) continue; // swagger-ui, registered outside Nest: public by design
    if (path === '/{*path}') continue; // Nest's catch-all 404 handler, not an endpoint
    for (const [method, on] of Object.entries(layer.route.methods as Record<string, boolean>)) {
      if (on && method !== '_all') out.push({ method: method.toUpperCase(), path });
    }
  }
  return out;
}

/** The access rule of each Nest handler, keyed by `METHOD /path`. */
function nestRules(stack: TestStack): Map<string, RouteRule> {
  const rules = new Map<string, RouteRule>();
  for (const module of stack.app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const ctrl = wrapper.metatype as (new (...a: unknown[]) => unknown) | null;
      if (!ctrl) continue;
      const base: string = Reflect.getMetadata(PATH_METADATA, ctrl) ?? '';
      for (const name of Object.getOwnPropertyNames(ctrl.prototype)) {
        const fn = ctrl.prototype[name];
        if (name === 'constructor' || typeof fn !== 'function') continue;
        const methodNo: RequestMethod | undefined = Reflect.getMetadata(METHOD_METADATA, fn);
        if (methodNo === undefined) continue;
        const sub: string = Reflect.getMetadata(PATH_METADATA, fn) ?? '';
        const path = ('/' + [base, sub].map((p) => p.replace(/^\/+|\/+$/g, '')).filter(Boolean).join('/')).replace(/\/+/g, '/');
        const method = RequestMethod[methodNo];
        rules.set(`${method} ${path}`, {
          method,
          path,
          handler: `${ctrl.name}.${name}`,
          public: Reflect.getMetadata(PUBLIC_METADATA, fn) ?? Reflect.getMetadata(PUBLIC_METADATA, ctrl) ?? false,
          roles: Reflect.getMetadata(ROLES_METADATA, fn) ?? Reflect.getMetadata(ROLES_METADATA, ctrl) ?? null,
        });
      }
    }
  }
  return rules;
}

/** A concrete URL for a route pattern: UUID-like params get a random unknown UUID, others a word. */
function concrete(path: string): string {
  return path.replace(/:(\w+)(\.\w+)?/g, (_m, name: string, ext?: string) => {
    const value = name === 'version' ? '2' : name === 'queue' ? 'ingestion' : /id$/i.test(name) ? '00000000-0000-4000-8000-000000000000' : 'nothing-here';
    return value + (ext ?? '');
  });
}

/** The permission table of docs/api.md: `| METHOD | /path | roles |` rows between the markers. */
function documentedTable(): Map<string, string> {
  const md = readFileSync(join(__dirname, '../../docs/api.md'), 'utf8');
  const start = md.indexOf('<!-- permissions:start -->');
  const end = md.indexOf('<!-- permissions:end -->');
  const rows = new Map<string, string>();
  if (start < 0 || end < 0) return rows;
  for (const line of md.slice(start, end).split('\n')) {
    const m = /^\|\s*`?(GET|POST|PUT|PATCH|DELETE)`?\s*\|\s*`([^`]+)`\s*\|\s*([^|]+)\|/.exec(line);
    if (m) rows.set(`${m[1]} ${m[2]}`, m[3].trim());
  }
  return rows;
}

/** The roles cell as docs/api.md writes it. */
export function rolesCell(rule: RouteRule): string {
  if (rule.public) return 'public (no key)';
  const roles = rule.roles ?? [];
  if (ROLES.every((r) => r === 'admin' || roles.includes(r))) return 'any key';
  return ['admin', ...ROLES.filter((r) => r !== 'admin' && roles.includes(r))].join(', ');
}

describe('permission matrix: every route × every role, derived from the router', () => {
  let stack: TestStack;
  let routes: (RouteRule & { url: string })[];
  const keys = {} as Record<TestRole, string>;

  beforeAll(async () => {
    stack = await startStack({ withWorker: false });
    for (const role of ROLES) keys[role] = await stack.keyFor(role);
    const rules = nestRules(stack);
    routes = expressRoutes(stack).map((r) => {
      const rule = rules.get(`${r.method} ${r.path}`);
      return { ...(rule ?? { method: r.method, path: r.path, handler: '(not a Nest handler)', public: false, roles: null }), url: concrete(r.path) };
    });
  });
  afterAll(() => stack.close());

  it('finds the routes (sanity: the key, lifecycle and audit routes are among them)', () => {
    const names = routes.map((r) => `${r.method} ${r.path}`);
    expect(names).toEqual(expect.arrayContaining(['POST /api-keys', 'POST /pilots/:id/approve', 'GET /audit', 'POST /pilots', 'GET /health']));
    expect(routes.length).toBeGreaterThan(25);
  });

  it('every route has an access rule (@Roles or @Public on its handler)', () => {
    const missing = routes.filter((r) => !r.public && r.roles === null).map((r) => `${r.method} ${r.path} (${r.handler})`);
    expect(missing).toEqual([]);
  });

  it('only health is public', () => {
    expect(routes.filter((r) => r.public).map((r) => `${r.method} ${r.path}`)).toEqual(['GET /health']);
  });

  it('every route is in the permission table of docs/api.md with the same roles', () => {
    const table = documentedTable();
    const problems = routes
      .filter((r) => table.get(`${r.method} ${r.path}`) !== rolesCell(r))
      .map((r) => `${r.method} ${r.path}: docs say ${JSON.stringify(table.get(`${r.method} ${r.path}`) ?? null)}, code says ${JSON.stringify(rolesCell(r))}`);
    expect(problems).toEqual([]);
  });

  it('without a key every non-public route answers 401 UNAUTHENTICATED; public ones do not', async () => {
    const wrong: string[] = [];
    for (const r of routes) {
      const res = await request(stack.raw)[r.method.toLowerCase() as 'get'](r.url).send({});
      const ok = r.public ? res.status !== 401 : res.status === 401 && res.body.code === 'UNAUTHENTICATED' && typeof res.body.request_id === 'string';
      if (!ok) wrong.push(`${r.method} ${r.url}: ${res.status} ${res.body?.code}`);
    }
    expect(wrong).toEqual([]);
  });

  it('a revoked or unknown key is 401 everywhere it would be needed', async () => {
    const res = await request(stack.raw).get('/pilots').set('x-api-key', 'plk_deadbeef_not-a-real-key');
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('UNAUTHENTICATED');
  });

  it.each(ROLES.map((r) => [r]))('role %s: allowed routes pass the guard, the others get 403 FORBIDDEN', async (role) => {
    const wrong: string[] = [];
    for (const r of routes.filter((x) => !x.public)) {
      const allowed = role === 'admin' || (r.roles ?? []).includes(role);
      const res = await request(stack.raw)[r.method.toLowerCase() as 'get'](r.url).set('x-api-key', keys[role]).send({});
      const deniedByGuard = res.status === 403 && res.body.code === 'FORBIDDEN' && Array.isArray(res.body.details?.allowed_roles);
      if (res.status === 401 || (allowed ? deniedByGuard : !deniedByGuard)) wrong.push(`${r.method} ${r.url} as ${role}: ${res.status} ${res.body?.code} (${allowed ? 'allowed' : 'denied'} by the rule)`);
    }
    expect(wrong).toEqual([]);
  });

  it('the rules follow the issue: sales_ops defines pilots and loads data, experimenter runs the lifecycle, analyst reads, admin manages keys', () => {
    const rule = (k: string) => {
      const r = routes.find((x) => `${x.method} ${x.path}` === k);
      if (!r) throw new Error(`no route ${k}`);
      return rolesCell(r);
    };
    expect(rule('POST /pilots')).toBe('admin, sales_ops');
    expect(rule('PATCH /pilots/:id')).toBe('admin, sales_ops, experimenter');
    expect(rule('POST /territories')).toBe('admin, sales_ops');
    expect(rule('POST /opportunities/batches')).toBe('admin, sales_ops');
    // Import sources: sales_ops defines and deletes them (as PUT), every key reads them.
    expect(rule('PUT /import-sources/:name')).toBe('admin, sales_ops');
    expect(rule('DELETE /import-sources/:name')).toBe('admin, sales_ops');
    expect(rule('GET /import-sources')).toBe('any key');
    expect(rule('GET /import-sources/:name')).toBe('any key');
    for (const verb of ['approve', 'launch', 'stop', 'conclude']) expect(rule(`POST /pilots/:id/${verb}`)).toBe('admin, experimenter');
    expect(rule('POST /pilots/:id/assignment')).toBe('admin, experimenter');
    expect(rule('GET /pilots/:id')).toBe('any key');
    expect(rule('GET /pilots/:id/reports/:reportId')).toBe('any key');
    expect(rule('POST /api-keys')).toBe('admin');
    expect(rule('POST /api-keys/:keyId/revoke')).toBe('admin');
  });
});
