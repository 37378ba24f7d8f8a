import { performance } from 'node:perf_hooks';

/**
 * Event-loop utilisation of the calling thread since the previous call, 0..1: the share of
 * wall time spent running callbacks rather than waiting in the poll phase. On the listener's
 * thread it nears 1 both when the listener has more work than it can do and when it is
 * runnable but denied a core (time descheduled inside a callback counts as busy), which are
 * the two ways answers to the mirror get late.
 */
export function eventLoopLoad(): () => number {
  let last = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const { utilization } = performance.eventLoopUtilization(now, last);
    last = now;
    return utilization;
  };
}
