"""The `tscloud` executable: the console script and ``python -m tscloud_py`` both run ``run()``."""

import atexit
import gc
import os
import sys
import threading

# The cyclic collector's youngest generation holds 200,000 objects, not 700. A run's start-up (click,
# botocore, its service models, the clients) makes about 100,000 objects that live until the exit, and
# at the default every 700 of them set off a collection that walks them again: about 110 collections,
# 50 to 70 ms of a static site's redeploy (400 ms of CPU), none of which frees anything. Objects
# without cycles are freed as before, by reference counting; cyclic garbage waits for the next
# collection, which still comes every 200,000 new objects, so a long-running command (the emulator's
# server, a deploy that waits minutes) holds at most that many.
GEN0_THRESHOLD = 200_000


def run() -> None:
    """Tune the collector and serve the dataclasses' compiled methods from the cache (``code_cache.py``)
    before anything heavy is imported, run the CLI, and leave (``_exit``)."""
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)
    from tscloud_py import code_cache
    from tscloud_py.user_cache import private_dir, user_cache_dir

    code_cache.install(private_dir(user_cache_dir("compiled")))
    from tscloud_py.cli.main import main

    try:
        main()
    except SystemExit as exc:
        _exit(exc.code)
    _exit(0)


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


if __name__ == "__main__":
    run()
