// The link between `tributary up` and each child it starts: an IPC channel whose close tells the child that its supervisor is gone, however it died.
import type { Logger } from '../../ts/log/logger.js';

/**
 * Set in a supervised child's environment (with an IPC channel as its fourth stdio): the child
 * stops when the channel closes. Node has no PR_SET_PDEATHSIG; a closed channel is what the kernel
 * guarantees when the parent dies, SIGKILL included.
 */
export const PARENT_LINK_ENV = 'TRIBUTARY_PARENT_LINK';
export const PARENT_LINK_IPC = 'ipc';

/** How long a child may take to stop cleanly once its supervisor is gone before it exits anyway. */
export const PARENT_GONE_GRACE_MS = 3000;

/**
 * In a child started by `ProcessSupervisor`: when the supervisor is gone (its end of the IPC
 * channel closed), logs it and sends this process SIGTERM, so the command stops exactly as when the
 * supervisor stops it (a command that has not installed its handlers yet is simply terminated);
 * exits with code 1 if that takes longer than `graceMs`. Returns whether a link was found.
 *
 * Once the supervisor is gone nobody reads this process's stdout and stderr: writes there fail
 * with EPIPE, which is ignored from then on instead of crashing the clean stop.
 */
export function watchParent(
  logger: () => Logger,
  env: NodeJS.ProcessEnv = process.env,
  graceMs: number = PARENT_GONE_GRACE_MS,
): boolean {
  const channel = process.channel;
  if (env[PARENT_LINK_ENV] !== PARENT_LINK_IPC || channel === undefined) return false;
  // The channel must not keep this process alive: it ends when its command is done.
  channel.unref();
  let handled = false;
  const parentGone = () => {
    if (handled) return;
    handled = true;
    for (const stream of [process.stdout, process.stderr]) {
      stream.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EPIPE') throw error;
      });
    }
    logger().warn('the supervisor is gone; stopping', { graceMs });
    setTimeout(() => {
      logger().error('did not stop in time after the supervisor went away; exiting', { graceMs });
      process.exit(1);
    }, graceMs).unref();
    process.kill(process.pid, 'SIGTERM');
  };
  process.once('disconnect', parentGone);
  // The supervisor may have died while this process was still loading its modules.
  if (!process.connected) parentGone();
  return true;
}
