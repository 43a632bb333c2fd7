import atexit
import os
import sys
import threading

from tscloud_py.cli.main import main


def _exit(code: object) -> None:
    """Leave as the interpreter would, less its teardown. After the exit handlers (temporary directories,
    logging, executors) and the threads that are not daemons, the interpreter would free every object one
    at a time, botocore's service models among them: a tenth of a second or more that nobody waits on
    usefully, paid by every command. The streams are flushed and the process ends."""
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        print(code, file=sys.stderr)
        status = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            status = status or 1  # stdout closed early (a pipe): what could not be written is a failure
    os._exit(status)


try:
    main()
except SystemExit as exc:
    _exit(exc.code)
_exit(0)
