"""pymesos' operator clients against mesolite: master and agent calls, and the master event stream.

Usage: operator_api.py --master HOST:PORT --agent HOST:PORT [--finished-tasks N]

Master calls through pymesos.operator_v1.MesosOperatorMasterDriver (which posts to
/api/v1/operator): GET_HEALTH, GET_VERSION, GET_STATE, GET_AGENTS, GET_FRAMEWORKS, GET_TASKS. Each
answer must parse and carry the top-level keys of Mesos 1.5's master.proto Response. The agent's
GET_HEALTH, GET_VERSION and GET_STATE go through MesosOperatorAgentDriver, and an operator SUBSCRIBE
through MesosOperatorMasterDriver.start() must deliver SUBSCRIBED. With --finished-tasks N, GET_TASKS
must list at least N completed tasks in TASK_FINISHED (run after the scheduler).
"""

import argparse
import sys
import threading
import time

from pymesos import MesosOperatorAgentDriver, MesosOperatorMasterDriver, OperatorMaster

from common import Checks


def dig(obj, *path):
    """Follows `path` through nested dictionaries; None when a key is missing."""
    for key in path:
        if not isinstance(obj, dict) or key not in obj:
            return None
        obj = obj[key]
    return obj


def call(checks, name, send, expect_type, required):
    """Runs one operator call and checks its type and the keys under `get_x`; returns the body."""
    try:
        answer = send()
    except Exception as e:
        checks.fail(name, 'request failed: %s' % e)
        return None
    if not isinstance(answer, dict) or not answer:
        checks.fail(name, 'answer is not a JSON object: %r' % (answer,))
        return None
    body_key = expect_type.lower()
    missing = []
    if answer.get('type') != expect_type:
        missing.append('type=%s (got %r)' % (expect_type, answer.get('type')))
    body = answer.get(body_key)
    if not isinstance(body, dict):
        missing.append(body_key)
        body = {}
    for path in required:
        if dig(body, *path.split('.')) is None:
            missing.append('%s.%s' % (body_key, path))
    checks.check(not missing, name, 'missing or wrong: %s; answer %.300s' % (missing, answer))
    return body


class SubscribingDriver(MesosOperatorMasterDriver):
    """pymesos only logs the operator SUBSCRIBED event; this keeps it for the check."""

    def __init__(self, master):
        super(SubscribingDriver, self).__init__(master, operator=OperatorMaster())
        self.subscribed_info = None
        self.subscribed_event = threading.Event()

    def on_subscribed(self, info):
        self.subscribed_info = info
        self.subscribed_event.set()


def master_calls(checks, master, finished_tasks):
    driver = MesosOperatorMasterDriver(master)
    health = call(checks, 'master GET_HEALTH', driver.getHealth, 'GET_HEALTH', ['healthy'])
    if health is not None:
        checks.check(health.get('healthy') is True, 'master GET_HEALTH healthy',
                     'healthy is %r' % health.get('healthy'))
    version = call(checks, 'master GET_VERSION', driver.getVersion, 'GET_VERSION',
                   ['version_info.version'])
    if version is not None:
        v = dig(version, 'version_info', 'version') or ''
        parts = v.split('.')
        checks.check(len(parts) == 3 and all(p.isdigit() for p in parts),
                     'master GET_VERSION version is three integers', 'version is %r' % v, v)
    call(checks, 'master GET_STATE', driver.getState, 'GET_STATE',
         ['get_tasks', 'get_executors', 'get_frameworks', 'get_agents'])
    agents = call(checks, 'master GET_AGENTS', driver.getAgents, 'GET_AGENTS', ['agents'])
    if agents is not None:
        listed = agents.get('agents') or []
        shape = [k for k in ('agent_info', 'active', 'version', 'total_resources')
                 if listed and k not in listed[0]]
        checks.check(len(listed) == 1 and not shape, 'master GET_AGENTS lists the one agent',
                     '%d agents, first lacks %s' % (len(listed), shape))
    call(checks, 'master GET_FRAMEWORKS', driver.getFrameworks, 'GET_FRAMEWORKS', [])
    tasks = call(checks, 'master GET_TASKS', driver.getTasks, 'GET_TASKS', [])
    if tasks is not None and finished_tasks:
        done = [t for t in tasks.get('completed_tasks') or [] if t.get('state') == 'TASK_FINISHED']
        checks.check(len(done) >= finished_tasks,
                     'master GET_TASKS lists the scheduler\'s finished tasks',
                     '%d completed TASK_FINISHED tasks, expected at least %d; keys %s' % (
                         len(done), finished_tasks, sorted(tasks.keys())),
                     '%d completed' % len(done))


def agent_calls(checks, agent):
    driver = MesosOperatorAgentDriver(agent)
    call(checks, 'agent GET_HEALTH', driver.getHealth, 'GET_HEALTH', ['healthy'])
    call(checks, 'agent GET_VERSION', driver.getVersion, 'GET_VERSION', ['version_info.version'])
    call(checks, 'agent GET_STATE', driver.getState, 'GET_STATE',
         ['get_tasks', 'get_executors', 'get_frameworks'])


def subscribe(checks, master):
    driver = SubscribingDriver(master)
    aborted = None
    try:
        driver.start()
        # Short waits: pymesos reports its IO thread's failure with interrupt_main(), which is
        # only noticed between waits.
        deadline = time.time() + 10
        while not driver.subscribed_event.is_set() and time.time() < deadline:
            driver.subscribed_event.wait(0.1)
    except BaseException as e:  # pymesos re-raises its IO thread's exception in the main thread.
        aborted = '%s: %s' % (type(e).__name__, e)
    info = driver.subscribed_info
    if aborted:
        checks.fail('master SUBSCRIBE', 'pymesos IO thread aborted: %s' % aborted)
    elif info is None:
        checks.fail('master SUBSCRIBE', 'no SUBSCRIBED event within 10 s')
    else:
        checks.check(dig(info, 'get_state', 'get_agents', 'agents') is not None,
                     'master SUBSCRIBE', 'SUBSCRIBED lacks get_state.get_agents.agents: %.300s'
                     % (info,))
    driver.stop()
    driver.join()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--master', required=True)
    parser.add_argument('--agent', required=True)
    parser.add_argument('--finished-tasks', type=int, default=0)
    args = parser.parse_args()
    checks = Checks('operator')
    master_calls(checks, args.master, args.finished_tasks)
    agent_calls(checks, args.agent)
    subscribe(checks, args.master)
    return checks.exit_code()


if __name__ == '__main__':
    sys.exit(main())
