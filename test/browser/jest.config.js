/**
 * The browser test (npm run test:browser): the demo's HTML report in headless Chromium. Not part
 * of `npm test`: it reads out/demo-report-aa.html, which `npm run demo` writes.
 */
module.exports = {
  rootDir: '../..',
  testTimeout: 120000,
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testMatch: ['<rootDir>/test/browser/**/*.browser.spec.ts'],
};
