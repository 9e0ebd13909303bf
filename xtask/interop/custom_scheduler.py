"""A pymesos scheduler that runs one task under a pymesos custom executor (executor.py) on mesolite.

Usage: custom_scheduler.py --master HOST:PORT --executor-command CMD [--timeout SECONDS]

The task's TaskInfo carries `executor` (CommandInfo `CMD` with shell true) instead of `command`.
Checks: TASK_RUNNING and TASK_FINISHED arrive from the executor (source SOURCE_EXECUTOR, with
executor_id), TASK_RUNNING's data reports a complete Mesos environment, the executor's `hello`
MESSAGE reaches the scheduler, and a scheduler MESSAGE (`ping`) reaches the executor (it answers
`pong`). After the executor exits, a FAILURE event names it (agent_id, executor_id, status).
"""

import argparse
import getpass
import json
import sys
import threading
import time

from pymesos import MesosSchedulerDriver, Scheduler, decode_data, encode_data

from common import Checks

EXECUTOR_ID = 'interop-pymesos-executor'
TASK_ID = 'interop-custom-1'


def scalar(resources, name):
    return sum(float(r.get('scalar', {}).get('value', 0.0)) for r in resources
               if r.get('name') == name and r.get('type') == 'SCALAR')


class CustomScheduler(Scheduler):
    def __init__(self, executor_command):
        self.executor_command = executor_command
        self.launched = False
        self.lock = threading.Lock()
        self.states = []
        self.updates = {}
        self.hello = False
        self.env_report = None
        self.pong = False
        self.message_refused = None
        self.problems = []
        self.done = threading.Event()
        self.failure = None
        self.failure_event = threading.Event()

    def resourceOffers(self, driver, offers):
        for offer in offers:
            with self.lock:
                launch = not self.launched and scalar(offer['resources'], 'cpus') >= 0.2
                self.launched = self.launched or launch
            if not launch:
                driver.declineOffer(offer['id'], filters={'refuse_seconds': 60.0})
                continue
            resources = [
                {'name': 'cpus', 'type': 'SCALAR', 'scalar': {'value': 0.1}},
                {'name': 'mem', 'type': 'SCALAR', 'scalar': {'value': 32.0}},
            ]
            task = {
                'name': 'interop custom executor task',
                'task_id': {'value': TASK_ID},
                'agent_id': {'value': offer['agent_id']['value']},
                'resources': resources,
                'executor': {
                    'executor_id': {'value': EXECUTOR_ID},
                    'name': 'pymesos interop executor',
                    'command': {'value': self.executor_command, 'shell': True},
                    'resources': resources,
                },
            }
            driver.launchTasks(offer['id'], [task])

    def statusUpdate(self, driver, update):
        state = update.get('state')
        with self.lock:
            self.states.append(state)
            self.updates[state] = update
        if state == 'TASK_RUNNING' and update.get('data'):
            try:
                self.env_report = json.loads(decode_data(update['data']).decode('utf-8'))
            except ValueError:
                self.problems.append('unparsable TASK_RUNNING data %r' % update['data'])
        if state == 'TASK_RUNNING':
            try:
                driver.sendFrameworkMessage({'value': EXECUTOR_ID}, update['agent_id'],
                                            encode_data(b'ping'))
            except Exception as e:  # A refused call is this check's failure, not the driver's.
                self.message_refused = str(e).splitlines()[0]
        elif state != 'TASK_STARTING':
            self.done.set()

    def frameworkMessage(self, driver, executor_id, agent_id, message):
        text = decode_data(message).decode('utf-8', 'replace')
        if text == 'hello':
            self.hello = True
        elif text == 'pong':
            self.pong = True
        else:
            self.problems.append('unexpected framework message %r' % text)

    def executorLost(self, driver, executor_id, agent_id, status):
        # The executor exits after its task; a FAILURE for it is expected then, not before.
        if not self.done.is_set():
            self.problems.append('FAILURE for executor %s (status %s) before the task ended' % (
                executor_id, status))
        self.failure = (executor_id, agent_id, status)
        self.failure_event.set()

    def error(self, driver, message):
        self.problems.append('ERROR event: %s' % message)
        self.done.set()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--master', required=True)
    parser.add_argument('--executor-command', required=True)
    parser.add_argument('--timeout', type=float, default=60.0)
    args = parser.parse_args()
    checks = Checks('custom-executor')

    sched = CustomScheduler(args.executor_command)
    # With checkpoint true, Mesos gives the executor MESOS_CHECKPOINT=1 and the recovery variables.
    framework = {'user': getpass.getuser(), 'name': 'mesolite-interop-custom-executor',
                 'hostname': 'localhost', 'checkpoint': True}
    driver = MesosSchedulerDriver(sched, framework, args.master, use_addict=True,
                                  implicit_acknowledgements=True)
    aborted = None
    try:
        driver.start()
        # Short waits: pymesos reports its IO thread's failure with interrupt_main(), which is
        # only noticed between waits.
        deadline = time.time() + args.timeout
        while not sched.done.is_set() and time.time() < deadline:
            sched.done.wait(0.1)
        # Let a late pong or hello arrive after the terminal update.
        deadline = time.time() + 2
        while time.time() < deadline and not (sched.pong and sched.hello):
            time.sleep(0.1)
        # The executor exits about a second after its terminal update is acknowledged.
        deadline = time.time() + 10
        while sched.done.is_set() and not sched.failure_event.is_set() and time.time() < deadline:
            sched.failure_event.wait(0.1)
    except BaseException as e:  # pymesos re-raises its IO thread's exception in the main thread.
        aborted = '%s: %s' % (type(e).__name__, e)
    if aborted:
        checks.fail('driver kept running', 'pymesos IO thread aborted: %s' % aborted)

    states = list(sched.states)
    checks.check('TASK_RUNNING' in states, 'executor sent TASK_RUNNING', 'states seen: %s' % states)
    finished = sched.updates.get('TASK_FINISHED')
    last = sched.updates.get(states[-1]) if states else None
    checks.check(finished is not None, 'executor sent TASK_FINISHED',
                 'states seen: %s; last reason %s, message %r' % (
                     states, last and last.get('reason'), last and last.get('message')),
                 finished and finished.get('message'))
    if finished is not None:
        gaps = [f for f in ('uuid', 'agent_id', 'executor_id', 'timestamp') if f not in finished]
        if finished.get('source') != 'SOURCE_EXECUTOR':
            gaps.append('source=SOURCE_EXECUTOR (got %r)' % finished.get('source'))
        checks.check(not gaps, 'executor update carries the Mesos fields',
                     'TASK_FINISHED lacks %s: %s' % (gaps, dict(finished)))
    checks.check(sched.hello, 'executor MESSAGE reached the scheduler',
                 'no hello message arrived; the executor said: %r' % (
                     finished and finished.get('message')))
    report = sched.env_report
    if report is None:
        checks.fail('executor environment is complete', 'TASK_RUNNING carried no report in data')
    else:
        checks.check(report.get('registered'), 'executor SUBSCRIBED before LAUNCH',
                     'the executor saw LAUNCH before SUBSCRIBED')
        bad = {k: v for k, v in (('missing', report.get('missing')),
                                 ('malformed', report.get('malformed'))) if v}
        checks.check(not bad, 'executor environment is complete',
                     'Mesos environment variables %s' % bad)
        checks.check(report.get('sandbox_is_cwd'), 'executor runs in MESOS_SANDBOX',
                     'the working directory is not MESOS_SANDBOX')
    checks.check(sched.pong, 'scheduler MESSAGE reached the executor',
                 sched.message_refused or 'no pong came back for the ping')
    if sched.failure is None:
        checks.fail('FAILURE event after the custom executor exited', 'none within 10 s')
    else:
        executor_id, agent_id, status = sched.failure
        checks.check(executor_id.get('value') == EXECUTOR_ID and agent_id.get('value'),
                     'FAILURE event after the custom executor exited',
                     'FAILURE carried executor_id %s, agent_id %s' % (executor_id, agent_id),
                     'status %s' % status)
    for p in sched.problems:
        checks.fail('no unexpected events', p)

    driver.stop()
    driver.join()
    return checks.exit_code()


if __name__ == '__main__':
    sys.exit(main())
