"""A pymesos scheduler that launches N `/bin/true` command tasks on mesolite and waits for them all.

Usage: scheduler.py --master HOST:PORT [--tasks N] [--timeout SECONDS]

It uses pymesos.MesosSchedulerDriver with addict dictionaries and implicit acknowledgements, fills
each offer with as many tasks (cpus 0.1, mem 32) as fit, and passes when all N tasks reach
TASK_FINISHED. Any other terminal state, an ERROR event, a FAILURE event (command executors produce
none) or the timeout fails. It prints the time from driver start to the Nth TASK_FINISHED as
`interop_throughput n=N seconds=S tasks_per_sec=R`.
"""

import argparse
import getpass
import json
import sys
import threading
import time
import urllib.request

from pymesos import MesosSchedulerDriver, Scheduler

from common import Checks

# The smallest CPU share Mesos offers and a little memory, as in the Rust throughput bench:
# the 4-cpu agent fits 400 such tasks in one offer.
TASK_CPUS = 0.01
TASK_MEM = 8.0
TERMINAL = {
    'TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_LOST', 'TASK_ERROR', 'TASK_DROPPED',
    'TASK_GONE', 'TASK_GONE_BY_OPERATOR', 'TASK_UNKNOWN',
}
UPDATE_FIELDS = ('task_id', 'state', 'agent_id', 'timestamp', 'source', 'uuid', 'executor_id')
OFFER_FIELDS = ('id', 'framework_id', 'agent_id', 'hostname', 'resources', 'url')


def framework_removed(master, framework_id):
    """Whether the master no longer lists the framework as registered (GET_FRAMEWORKS)."""
    body = json.dumps({'type': 'GET_FRAMEWORKS'}).encode()
    req = urllib.request.Request('http://%s/api/v1' % master, data=body,
                                 headers={'Content-Type': 'application/json'})
    for _ in range(50):
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                answer = json.loads(resp.read().decode())
        except OSError:
            time.sleep(0.1)
            continue
        registered = answer.get('get_frameworks', {}).get('frameworks', [])
        if not any(f.get('framework_info', {}).get('id', {}).get('value') == framework_id
                   for f in registered):
            return True
        time.sleep(0.1)
    return False


def scalar(resources, name):
    """Sums the scalar resource `name` over an offer's resources."""
    total = 0.0
    for r in resources:
        if r.get('name') == name and r.get('type') == 'SCALAR':
            total += float(r.get('scalar', {}).get('value', 0.0))
    return total


class ThroughputScheduler(Scheduler):
    def __init__(self, total):
        self.total = total
        self.lock = threading.Lock()
        self.next_task = 0
        self.finished = set()
        self.problems = []
        self.update_field_gaps = {}
        self.offer_field_gaps = None
        self.offers_seen = 0
        self.master_version = None
        self.registered_event = threading.Event()
        self.done = threading.Event()
        self.done_at = None
        self.suppressed = False

    def registered(self, driver, framework_id, master_info):
        self.master_version = master_info.get('version')
        self.registered_event.set()

    def reregistered(self, driver, master_info):
        self.problems.append('unexpected re-registration (the subscription stream dropped)')

    def resourceOffers(self, driver, offers):
        for offer in offers:
            with self.lock:
                self.offers_seen += 1
                if self.offer_field_gaps is None:
                    missing = [f for f in OFFER_FIELDS if f not in offer]
                    missing += ['resources[].allocation_info' for r in offer.get('resources', [])
                                if 'allocation_info' not in r][:1]
                    self.offer_field_gaps = missing
                cpus = scalar(offer.get('resources', []), 'cpus')
                mem = scalar(offer.get('resources', []), 'mem')
                fit = min(int(round(cpus * 1000)) // int(round(TASK_CPUS * 1000)),
                          int(mem // TASK_MEM))
                count = max(0, min(fit, self.total - self.next_task))
                first = self.next_task
                self.next_task += count
            if count == 0:
                driver.declineOffer(offer['id'], filters={'refuse_seconds': 60.0})
                continue
            tasks = [self.task_info(i, offer) for i in range(first, first + count)]
            driver.launchTasks(offer['id'], tasks, filters={'refuse_seconds': 1.0})
        with self.lock:
            all_launched = self.next_task >= self.total and not self.suppressed
            if all_launched:
                self.suppressed = True
        if all_launched:
            driver.suppressOffers()

    def task_info(self, i, offer):
        return {
            'name': 'interop-%d' % i,
            'task_id': {'value': 'interop-%d' % i},
            'agent_id': {'value': offer['agent_id']['value']},
            'resources': [
                {'name': 'cpus', 'type': 'SCALAR', 'scalar': {'value': TASK_CPUS}},
                {'name': 'mem', 'type': 'SCALAR', 'scalar': {'value': TASK_MEM}},
            ],
            'command': {'value': '/bin/true', 'shell': True},
        }

    def statusUpdate(self, driver, update):
        state = update.get('state')
        task = update.get('task_id', {}).get('value')
        with self.lock:
            for f in UPDATE_FIELDS:
                if f not in update:
                    self.update_field_gaps.setdefault(f, (task, state))
            if state == 'TASK_FINISHED':
                self.finished.add(task)
                if len(self.finished) == self.total and not self.done.is_set():
                    self.done_at = time.time()
                    self.done.set()
            elif state in TERMINAL:
                self.problems.append('task %s ended %s (reason %s, message %r)' % (
                    task, state, update.get('reason'), update.get('message')))
                self.done.set()

    def error(self, driver, message):
        self.problems.append('ERROR event: %s' % message)
        self.done.set()

    def executorLost(self, driver, executor_id, agent_id, status):
        self.problems.append('FAILURE event for executor %s on agent %s (status %s); command '
                             'executors must not produce one' % (executor_id, agent_id, status))

    def slaveLost(self, driver, agent_id):
        self.problems.append('FAILURE event: agent %s lost' % agent_id)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--master', required=True)
    parser.add_argument('--tasks', type=int, default=50)
    parser.add_argument('--timeout', type=float, default=120.0)
    args = parser.parse_args()
    checks = Checks('scheduler')

    sched = ThroughputScheduler(args.tasks)
    framework = {'user': getpass.getuser(), 'name': 'mesolite-interop-throughput', 'hostname': 'localhost'}
    driver = MesosSchedulerDriver(sched, framework, args.master, use_addict=True,
                                  implicit_acknowledgements=True)
    started = time.time()
    aborted = None
    try:
        driver.start()
        deadline = started + args.timeout
        while not sched.done.is_set() and time.time() < deadline:
            sched.done.wait(0.2)
    except BaseException as e:  # pymesos re-raises its IO thread's exception in the main thread.
        aborted = '%s: %s' % (type(e).__name__, e)

    checks.check(sched.registered_event.is_set(), 'SUBSCRIBE answered with SUBSCRIBED',
                 'no SUBSCRIBED event arrived', 'master version %s' % sched.master_version)
    if aborted:
        checks.fail('driver kept running', 'pymesos IO thread aborted: %s' % aborted)
    if sched.offer_field_gaps is not None:
        checks.check(not sched.offer_field_gaps, 'offers carry the Mesos fields',
                     'first offer lacks %s' % sched.offer_field_gaps)
    else:
        checks.fail('offers arrive', 'no OFFERS event arrived')
    checks.check(not sched.update_field_gaps, 'status updates carry the Mesos fields',
                 'missing (first task, state): %s' % sched.update_field_gaps)
    for p in sched.problems:
        checks.fail('no unexpected events', p)
    n_done = len(sched.finished)
    if n_done == args.tasks and sched.done_at is not None:
        seconds = sched.done_at - started
        checks.ok('%d tasks TASK_FINISHED with implicit acknowledgements' % args.tasks,
                  '%.2f s from driver start, %d offers' % (seconds, sched.offers_seen))
        print('interop_throughput n=%d seconds=%.3f tasks_per_sec=%.1f' % (
            args.tasks, seconds, args.tasks / seconds if seconds > 0 else 0.0), flush=True)
    else:
        checks.fail('%d tasks TASK_FINISHED' % args.tasks,
                    'only %d finished after %.1f s (%d launched, %d offers)' % (
                        n_done, time.time() - started, sched.next_task, sched.offers_seen))

    # An explicit TEARDOWN, so that a refusal is seen here rather than only logged by pymesos.
    if driver.connected and driver.framework_id:
        framework_id = driver.framework_id
        try:
            driver._teardown()
            checks.ok('TEARDOWN accepted')
        except Exception as e:
            # The master ends the framework's event stream when it removes the framework, as
            # Mesos does; pymesos then closes its call connection too, and may do so before it
            # has read the TEARDOWN's 202 (http.client says 'Idle'). What counts is whether the
            # master removed the framework.
            if framework_removed(args.master, framework_id):
                checks.ok('TEARDOWN accepted',
                          'framework removed (pymesos lost the answer: %s)' % e)
            else:
                checks.fail('TEARDOWN accepted', str(e))
    driver.stop()
    driver.join()
    return checks.exit_code()


if __name__ == '__main__':
    sys.exit(main())
