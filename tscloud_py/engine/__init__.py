"""The step engine: steps, the plan as data, the DAG runner, journal and lock.

Knows nothing about AWS: steps receive their clients in their constructors.
"""

from tscloud_py.engine.step import Change, PendingOutput, Step, StepContext

__all__ = ["Change", "PendingOutput", "Step", "StepContext"]
