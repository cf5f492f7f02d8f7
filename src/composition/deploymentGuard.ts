// The last check before a locker starts: the same rules as `lockerd check-config`, applied to
// the configuration object itself, because a configuration can be built in code (tests, tools)
// and not only read from a file. Outside the simulator demo, demo settings and the examples'
// placeholder keys stop the start; a kiosk beyond loopback must have been asked for, and is
// said loudly in the log.
import { configError } from '../config/loadConfig.js';
import { demoOnlyIssues, isLoopbackHost } from '../config/deploymentChecks.js';
import type { LockerConfig } from '../config/schema.js';
import type { Logger } from '../logger.js';

export function guardDeployment(config: LockerConfig, o: { sim: boolean; logger: Logger }): void {
  const issues = o.sim ? [] : demoOnlyIssues(config);
  const loopback = isLoopbackHost(config.kiosk.host);
  if (!loopback && !config.kiosk.exposeBeyondLoopback) {
    issues.push({ path: 'kiosk.host', message: `"${config.kiosk.host}" is reachable beyond this machine; set kiosk.exposeBeyondLoopback: true if that is meant` });
  }
  if (issues.length > 0) throw configError(`the configuration of ${config.locker.id}`, issues);
  if (!loopback) {
    o.logger.warn(
      { host: config.kiosk.host, port: config.kiosk.port },
      'the kiosk API answers beyond loopback (kiosk.exposeBeyondLoopback): anyone who can reach this address can try codes, badges and PINs',
    );
  }
}
