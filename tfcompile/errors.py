"""TF 1.x's error classes (`tf.errors.*`): OpError and its subclasses."""
from __future__ import annotations


class OpError(Exception):
    """An error while running an op; `.op` names it when known."""

    def __init__(self, node_def, op, message, error_code=2):
        super().__init__(message)
        self.node_def = node_def
        self.op = op
        self.message = message
        self.error_code = error_code

    def __str__(self):
        if self.op is not None:
            return f"{self.message}\n\t [[node {self.op.name}]]"
        return self.message


def _make(name, code):
    def __init__(self, node_def=None, op=None, message="", *args):
        OpError.__init__(self, node_def, op, message, code)
    return type(name, (OpError,), {"__init__": __init__})


CancelledError = _make("CancelledError", 1)
UnknownError = _make("UnknownError", 2)
InvalidArgumentError = _make("InvalidArgumentError", 3)
DeadlineExceededError = _make("DeadlineExceededError", 4)
NotFoundError = _make("NotFoundError", 5)
AlreadyExistsError = _make("AlreadyExistsError", 6)
PermissionDeniedError = _make("PermissionDeniedError", 7)
ResourceExhaustedError = _make("ResourceExhaustedError", 8)
FailedPreconditionError = _make("FailedPreconditionError", 9)
AbortedError = _make("AbortedError", 10)
OutOfRangeError = _make("OutOfRangeError", 11)
UnimplementedError = _make("UnimplementedError", 12)
InternalError = _make("InternalError", 13)
UnavailableError = _make("UnavailableError", 14)
DataLossError = _make("DataLossError", 15)
UnauthenticatedError = _make("UnauthenticatedError", 16)


class OperatorNotAllowedInGraphError(TypeError):
    """A Python operation a symbolic tensor doesn't support in a graph (`bool(t)`,
    iterating over it). A TypeError, as TF 1.x raised; TF 2 named the subclass."""
