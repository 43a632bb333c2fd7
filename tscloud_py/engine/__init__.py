"""The step engine: steps, the plan as data, the DAG runner, progress events, its clock.

Knows nothing about AWS, and imports nothing of tscloud but itself and the error catalogue: steps
receive their clients in their constructors, the runner records through a ``Recorder``.
"""

from tscloud_py.engine.step import Change, PendingOutput, Step, StepContext

__all__ = ["Change", "PendingOutput", "Step", "StepContext"]
