"""The one server interceptor: wraps each method's handler, once, so that every call of it runs in
services.common.grpc_call's call_scope, and so that its request bytes decode leniently (a bad message
is refused with INVALID_ARGUMENT inside the call rather than INTERNAL outside it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeAlias

import grpc

from services.common.auth import TokenVerifier
from services.common.grpc_call import OPEN_SERVICES, MethodCalls, call_scope
from services.common.grpc_requests import lenient
from services.common.grpc_streams import StreamGate

# A servicer method as gRPC calls it: (request or request iterator, context) -> response or responses.
# Any: each method has its own message types, and this wrapper serves them all.
Behaviour = Callable[[Any, grpc.ServicerContext], Any]
StreamBehaviour = Callable[[Any, grpc.ServicerContext], Iterator[Any]]
if TYPE_CHECKING:  # generic only in the type stubs
    Handler: TypeAlias = grpc.RpcMethodHandler[Any, Any]


class CallInterceptor(grpc.ServerInterceptor):
    """Runs every call of the server through call_scope: one wrapper a call, not a stack of them."""

    def __init__(self, verifier: TokenVerifier | None, streams: StreamGate | None = None):
        self._verifier = verifier
        self._streams = streams
        # The wrapped handler of each method, made once: the method's handler never changes while
        # the server runs, and the call's own metadata is read from its context.
        self._handlers: dict[str, Handler] = {}

    def intercept_service(self, continuation: Callable[[grpc.HandlerCallDetails], Handler | None],
                          handler_call_details: grpc.HandlerCallDetails) -> Handler | None:
        """The method's handler, wrapped (None for a method the server does not have)."""
        method = handler_call_details.method
        wrapped = self._handlers.get(method)
        if wrapped is None:
            handler = continuation(handler_call_details)
            if handler is None:
                return None  # an unknown method: not kept, or any caller could grow the map
            wrapped = self._handlers[method] = self._wrap_handler(handler, method)
        return wrapped

    def _wrap_handler(self, handler: Handler, method: str) -> Handler:
        needs_auth = self._verifier is not None and not method.startswith(OPEN_SERVICES)
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                self._wrap_unary(handler.unary_unary, MethodCalls("unary", method, needs_auth)),
                request_deserializer=lenient(handler.request_deserializer),
                response_serializer=handler.response_serializer)
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                self._wrap_stream(handler.unary_stream, MethodCalls("server_stream", method, needs_auth)),
                request_deserializer=lenient(handler.request_deserializer),
                response_serializer=handler.response_serializer)
        # Client streams keep gRPC's own deserializer: a bad message fails the stream where it is read.
        # No single request message: the call's context holds none (request None).
        if handler.stream_stream:
            return grpc.stream_stream_rpc_method_handler(
                self._wrap_stream(handler.stream_stream, MethodCalls("bidi_stream", method, needs_auth),
                                  single_request=False),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer)
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(
                self._wrap_unary(handler.stream_unary, MethodCalls("client_stream", method, needs_auth),
                                 single_request=False),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer)
        return handler

    def _wrap_unary(self, behaviour: Behaviour, method: MethodCalls, *, single_request: bool = True) -> Behaviour:
        # A client stream holds its thread while it reads its requests: it takes a stream slot.
        streams = None if single_request else self._streams

        def unary(request: Any, context: grpc.ServicerContext) -> Any:
            with call_scope(method, context, request if single_request else None, self._verifier, streams):
                response = behaviour(request, context)
            method.sent.inc()
            return response

        return unary

    def _wrap_stream(self, behaviour: StreamBehaviour, method: MethodCalls, *,
                     single_request: bool = True) -> StreamBehaviour:
        def stream(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            with call_scope(method, context, request if single_request else None, self._verifier, self._streams):
                for response in behaviour(request, context):
                    method.sent.inc()
                    yield response

        return stream
