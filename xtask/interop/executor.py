"""A pymesos custom executor, launched by mesolite's agent for custom_scheduler.py's task.

It subscribes with pymesos.MesosExecutorDriver (reading the MESOS_* environment the agent set). For
each launched task it sends TASK_RUNNING whose `data` is a JSON report of the Mesos environment
variables that are missing or malformed, then a framework message `hello`. When the scheduler's
`ping` message arrives it answers `pong` and sends TASK_FINISHED; without a ping within 5 s it sends
TASK_FINISHED anyway, with a message saying so and naming any refused call, so that the scheduler's
checks stay separate. It exits after the
agent acknowledges the terminal update, or after 30 s.
"""

import json
import os
import re
import sys
import threading
import time

from pymesos import Executor, MesosExecutorDriver, decode_data, encode_data

# The Mesos executor environment (Mesos 1.5 docs/executor-http-api.md and issue 3), with the shape
# each value must have.
DURATION = r'^\d+(\.\d+)?(ns|us|ms|secs|mins|hrs|days|weeks)$'
EXPECTED_ENV = {
    'MESOS_FRAMEWORK_ID': r'.+',
    'MESOS_EXECUTOR_ID': r'.+',
    'MESOS_DIRECTORY': r'^/',
    'MESOS_SANDBOX': r'^/',
    'MESOS_AGENT_ENDPOINT': r'^[^:]+:\d+$',
    'MESOS_SLAVE_PID': r'^slave\(1\)@[^:]+:\d+$',
    'MESOS_CHECKPOINT': r'^1$',
    'MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD': DURATION,
    'MESOS_RECOVERY_TIMEOUT': DURATION,
    'MESOS_SUBSCRIPTION_BACKOFF_MAX': DURATION,
}


def environment_report():
    missing = [k for k in EXPECTED_ENV if k not in os.environ]
    malformed = {k: os.environ[k] for k, pattern in EXPECTED_ENV.items()
                 if k in os.environ and not re.search(pattern, os.environ[k])}
    sandbox_is_cwd = os.path.realpath(os.environ.get('MESOS_SANDBOX', '')) == os.path.realpath('.')
    return {'missing': missing, 'malformed': malformed, 'sandbox_is_cwd': sandbox_is_cwd}


class InteropExecutor(Executor):
    def __init__(self):
        self.done = threading.Event()
        self.terminal_acked = threading.Event()
        self.task_id = None
        self.lock = threading.Lock()
        self.finished_sent = False
        self.registered_info = None
        self.notes = []

    def registered(self, driver, executor_info, framework_info, agent_info):
        self.registered_info = (executor_info, framework_info, agent_info)
        log('registered: executor %s, framework %s, agent %s' % (
            executor_info.get('executor_id'), framework_info.get('id'), agent_info.get('id')))

    def launchTask(self, driver, task):
        self.task_id = task['task_id']
        log('launch %s' % self.task_id)
        report = environment_report()
        report['registered'] = self.registered_info is not None
        # The report rides in TASK_RUNNING's data, so it arrives even if MESSAGE is refused.
        driver.sendStatusUpdate({'task_id': self.task_id, 'state': 'TASK_RUNNING',
                                 'data': encode_data(json.dumps(report).encode('utf-8'))})
        try:
            driver.sendFrameworkMessage(encode_data(b'hello'))
        except Exception as e:  # A refused call is reported to the scheduler, not fatal here.
            self.notes.append('hello MESSAGE refused: %s' % e)
        timer = threading.Timer(5.0, self.finish, args=(driver, 'no ping arrived within 5 s'))
        timer.daemon = True
        timer.start()

    def frameworkMessage(self, driver, message):
        text = decode_data(message).decode('utf-8', 'replace')
        log('message %r' % text)
        if text == 'ping':
            try:
                driver.sendFrameworkMessage(encode_data(b'pong'))
            except Exception as e:  # A refused call is reported to the scheduler, not fatal here.
                self.notes.append('pong MESSAGE refused: %s' % e)
            self.finish(driver, 'finished after ping')

    def finish(self, driver, message):
        with self.lock:
            if self.finished_sent or self.task_id is None:
                return
            self.finished_sent = True
        text = '; '.join([message] + self.notes)
        driver.sendStatusUpdate({'task_id': self.task_id, 'state': 'TASK_FINISHED',
                                 'message': text})
        log('sent TASK_FINISHED (%s)' % message)

    def killTask(self, driver, task_id):
        driver.sendStatusUpdate({'task_id': task_id, 'state': 'TASK_KILLED'})

    def shutdown(self, driver):
        log('shutdown')
        self.done.set()

    def error(self, driver, message):
        log('error event: %s' % message)


class AckWatchingDriver(MesosExecutorDriver):
    """Notices the agent's ACKNOWLEDGED for the terminal update, so the executor can exit."""

    def on_acknowledged(self, event):
        super(AckWatchingDriver, self).on_acknowledged(event)
        if self.executor.finished_sent and not self.tasks:
            self.executor.terminal_acked.set()


def log(text):
    print('executor: %s' % text, flush=True)


def main():
    log('environment: %s' % {k: v for k, v in sorted(os.environ.items())
                             if k.startswith('MESOS_') or k.startswith('LIBPROCESS_')})
    executor = InteropExecutor()
    driver = AckWatchingDriver(executor, use_addict=True)
    try:
        driver.start()
        deadline = time.time() + 30
        while time.time() < deadline:
            if executor.done.is_set() or executor.terminal_acked.is_set():
                break
            time.sleep(0.1)
    except BaseException as e:  # pymesos re-raises its IO thread's exception in the main thread.
        log('pymesos IO thread aborted: %s: %s' % (type(e).__name__, e))
        return 1
    # Give the agent a moment to forward the last update before the stream closes.
    time.sleep(0.5)
    driver.stop()
    driver.join()
    return 0


if __name__ == '__main__':
    sys.exit(main())
