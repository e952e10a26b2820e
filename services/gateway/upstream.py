"""The gateway's calls to the other services over gRPC.

Channels are opened at the first call, not when the runtime is built: the nameko worker builds the
same runtime in an eventlet-patched process, where no gRPC may run. A channel connects lazily and
reconnects by itself, so a service that is down at start is simply asked again later. Its calls are
spread over every replica the address resolves to (services/common/channels.py).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections.abc import Mapping

import grpc
import jwt
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from services.common import tracing
from services.common.channels import internal_channel
from services.common.config import ConfigError, Settings
from services.common.context import SYSTEM
from services.common.errors import (
    Aborted,
    AlreadyExists,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from services.gateway.domain.complaint_form import ComplaintForm, forwarded_request_id
from supervision.common.v1 import indicators_pb2, indicators_pb2_grpc

COMMAND_CENTER, COMPLAINTS, ASSESSMENT = "command_center", "complaints", "assessment"
TOKEN_SECONDS = 3600


class UpstreamUnavailable(Exception):
    """A service the request needs did not answer (down, overloaded, or refusing the gateway)."""


class Credentials:
    """The gateway's own identity in its calls when AUTH_MODE=jwt: a short-lived system token it
    signs with JWT_SECRET, or the token the operator gives in GATEWAY_SERVICE_TOKEN (RS256/ES256
    deployments, where the gateway holds no signing key)."""

    def __init__(self, settings: Settings, service_token: str):
        self.settings = settings
        self.service_token = service_token
        if settings.auth_mode == "jwt" and not (service_token or settings.jwt_secret):
            raise ConfigError("configuration error: AUTH_MODE=jwt with JWT_PUBLIC_KEY needs GATEWAY_SERVICE_TOKEN "
                              "(a token with the system role) for the gateway's calls to the services")
        self._minted = ("", 0.0)
        self._lock = threading.Lock()

    def metadata(self) -> list[tuple[str, str]]:
        if self.settings.auth_mode != "jwt":
            return []
        return [("authorization", f"Bearer {self.service_token or self._token()}")]

    def _token(self) -> str:
        with self._lock:
            token, expires = self._minted
            if time.time() < expires - 300:
                return token
            now = int(time.time())
            lifetime = min(TOKEN_SECONDS, self.settings.jwt_service_max_lifetime_seconds)
            # token_use=service: the services accept the system role from service tokens only.
            claims = {"sub": "gateway", "roles": [SYSTEM], "token_use": "service", "aud": self.settings.jwt_audience,
                      "iat": now, "exp": now + lifetime}
            if self.settings.jwt_issuer:
                claims["iss"] = self.settings.jwt_issuer
            token = jwt.encode(claims, self.settings.jwt_secret, algorithm="HS256")
            self._minted = (token, now + lifetime)
            return token


Answer = dict[str, tuple[int, list[tuple[str, float, float]], dt.datetime | None]]


class Upstream:
    def __init__(self, addresses: Mapping[str, str], timeout_seconds: float, credentials: Credentials):
        self.addresses = dict(addresses)
        self.timeout = timeout_seconds
        self.credentials = credentials
        self._channels: dict[str, grpc.Channel] = {}
        self._lock = threading.Lock()

    def has(self, source: str) -> bool:
        return source in self.addresses

    def channel(self, source: str) -> grpc.Channel:
        with self._lock:
            channel = self._channels.get(source)
            if channel is None:
                channel = self._channels[source] = internal_channel(self.addresses[source])
            return channel

    def call(self, source: str, stub_class, method: str, request, timeout: float | None = None,
             authorization: str | None = None):
        """One unary call; as the gateway itself, or with `authorization` (a caller's bearer
        token, passed on so that the service applies the caller's rights, not the gateway's)."""
        stub = stub_class(self.channel(source))
        metadata = [("authorization", authorization)] if authorization else self.credentials.metadata()
        # The HTTP request's id and span go on with the call: one trace from the browser to the store.
        metadata = [*metadata, *tracing.outgoing_metadata()]
        return getattr(stub, method)(request, timeout=timeout or self.timeout, metadata=metadata)

    def list_indicators(self, source: str) -> Answer:
        """Every office's indicators of one source: office -> (version, readings, as_of)."""
        response = self.call(source, indicators_pb2_grpc.IndicatorSourceStub, "ListIndicators",
                             indicators_pb2.ListIndicatorsRequest())
        answer: Answer = {}
        for value in response.indicators:
            as_of = value.as_of.ToDatetime(tzinfo=dt.UTC) if value.HasField("as_of") else None
            version, readings, latest = answer.get(value.office_id, (0, [], None))
            readings.append((value.key, value.numerator, value.denominator))
            answer[value.office_id] = (max(version, value.version), readings,
                                       max(filter(None, (latest, as_of)), default=None))
        return answer

    def list_offices(self) -> dict[str, tuple[str, int]]:
        """command_center's offices: id -> (name, version)."""
        from supervision.command_center.v1 import command_center_pb2 as pb
        from supervision.command_center.v1 import command_center_pb2_grpc as pb_grpc

        offices: dict[str, tuple[str, int]] = {}
        token = ""
        while True:
            page = self.call(COMMAND_CENTER, pb_grpc.OfficeServiceStub, "ListOffices",
                             pb.ListOfficesRequest(page_size=1000, page_token=token))
            offices.update({office.id: (office.name, office.version) for office in page.offices})
            token = page.next_page_token
            if not token:
                return offices

    def get_scheme(self) -> dict:
        """assessment's scheme in force today, in scoring.Scheme.from_dict form with names."""
        from supervision.assessment.v1 import assessment_pb2 as pb
        from supervision.assessment.v1 import assessment_pb2_grpc as pb_grpc

        scheme = self.call(ASSESSMENT, pb_grpc.SchemeServiceStub, "GetScheme", pb.GetSchemeRequest())
        day = scheme.effective_from
        return {
            "version": scheme.version,
            "effective_from": dt.date(day.year, day.month, day.day).isoformat() if day.year else "",
            "dimensions": [{"key": d.key, "name": d.name, "weight": d.weight} for d in scheme.dimensions],
            "indicators": [{"key": i.key, "name": i.name, "dimension": i.dimension, "weight": i.weight,
                            "target": i.target, "floor": i.floor or 0.5,
                            "direction": "lower" if i.direction == pb.DIRECTION_LOWER else "higher",
                            "source": i.source} for i in scheme.indicators],
            "workload": {"weights": dict(scheme.workload.weights), "sensitivity": scheme.workload.sensitivity,
                         "minimum": scheme.workload.minimum, "maximum": scheme.workload.maximum},
        }

    def create_complaint(self, form: ComplaintForm) -> dict:
        """Forwards the public form to complaints; the answer carries no personal data. The request
        is the same for the same token and form, so that complaints recognises a retry."""
        from supervision.complaints.v1 import complaints_pb2 as pb
        from supervision.complaints.v1 import complaints_pb2_grpc as pb_grpc

        # No received_at: complaints stamps an online submission with the moment it takes it in,
        # where the statutory clocks start; a time set here would differ on every retry.
        complaint = pb.Complaint(
            kind=pb.ComplaintKind.Value(f"COMPLAINT_KIND_{form.kind.upper()}"), channel=pb.CHANNEL_ONLINE_12315,
            complainant=pb.Complainant(name=form.complainant_name, phone=form.complainant_phone,
                                       id_number=form.complainant_id_number, anonymous=form.anonymous),
            respondent=pb.Respondent(name=form.respondent_name, uscc=form.respondent_uscc,
                                     address=form.respondent_address, street=form.respondent_street),
            category=form.category, description=form.description, amount_yuan=form.amount_yuan)
        request_id = forwarded_request_id(form.request_id) if form.request_id else f"gateway-form:{uuid.uuid4()}"
        request = pb.CreateComplaintRequest(request_id=request_id, complaint=complaint)
        if not self.has(COMPLAINTS):
            raise UpstreamUnavailable("complaint intake is not configured (INDICATOR_SOURCES has no complaints)")
        try:
            created = self.call(COMPLAINTS, pb_grpc.ComplaintServiceStub, "CreateComplaint", request)
        except grpc.RpcError as error:
            raise _domain_error(error) from None

        def date(value) -> str | None:
            return dt.date(value.year, value.month, value.day).isoformat() if value.year else None

        return {"id": created.id, "kind": form.kind, "office_id": created.office_id,
                "state": pb.ComplaintState.Name(created.state).removeprefix("COMPLAINT_STATE_"),
                "acceptance_due": date(created.acceptance_due),
                "filing_decision_due": date(created.filing_decision_due)}

    def assessment_results(self, authorization: str | None) -> AssessmentResults:
        """assessment's closed periods, rankings, period scores and officer grades, read with the
        caller's rights."""
        if not self.has(ASSESSMENT):
            raise UpstreamUnavailable("考核服务未配置（INDICATOR_SOURCES 中没有 assessment） / "
                                      "assessment is not configured (INDICATOR_SOURCES has no assessment)")
        return AssessmentResults(self, authorization)

    def close(self) -> None:
        with self._lock:
            channels, self._channels = self._channels, {}
        for channel in channels.values():
            channel.close()


def _field_violations(error: grpc.RpcError) -> list[tuple[str, str]]:
    """The (field, description) pairs of a refusal's google.rpc.BadRequest details."""
    found = []
    status = rpc_status.from_call(error)
    for detail in status.details if status is not None else ():
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            detail.Unpack(bad_request)
            found += [(v.field, v.description) for v in bad_request.field_violations]
    return found


def _domain_error(error: grpc.RpcError) -> Exception:
    """complaints' refusal as the gateway's own: the caller's mistakes stay 4xx, outages are 503."""
    code = error.code()
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        found = [FieldViolation(field.removeprefix("complaint."), description)
                 for field, description in _field_violations(error)]
        return InvalidArgument(f"表单未通过校验：{error.details()}", found)
    if code == grpc.StatusCode.ALREADY_EXISTS:  # the token came with another form before
        return AlreadyExists("这个表单令牌已用于另一份内容不同的表单；提交新的投诉请重新获取表单令牌")
    if code in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.NOT_FOUND):
        return FailedPrecondition(f"暂时无法登记这份投诉：{error.details()}")
    if code == grpc.StatusCode.ABORTED:
        return Aborted(f"投诉未能登记，请重试：{error.details()}")
    return UpstreamUnavailable(f"投诉受理服务暂时不可用，请稍后再试（{code.name}）")


EXPORT_PAGE_SIZE = 1000  # assessment's largest page


class AssessmentResults:
    """Reads of assessment's results for one caller; its refusals become the gateway's errors
    (Chinese and English messages), an outage UpstreamUnavailable."""

    def __init__(self, upstream: Upstream, authorization: str | None):
        self.upstream = upstream
        self.authorization = authorization

    def _call(self, stub_name: str, method: str, request):
        from supervision.assessment.v1 import assessment_pb2_grpc as pb_grpc

        try:
            return self.upstream.call(ASSESSMENT, getattr(pb_grpc, stub_name), method, request,
                                      authorization=self.authorization)
        except grpc.RpcError as error:
            raise _assessment_error(error) from None

    def latest_period(self) -> str:
        """The key of the newest closed period; NotFound while none is closed."""
        from supervision.assessment.v1 import assessment_pb2 as pb

        answer = self._call("ScoreServiceStub", "ListPeriods", pb.ListPeriodsRequest(page_size=1))
        if not answer.periods:
            raise NotFound("还没有已关闭的考核期 / no assessment period has been closed yet")
        return answer.periods[0].key

    def rankings(self, period: str) -> list:
        """Every Ranking of a closed period the caller may see, by the adjusted index."""
        from supervision.assessment.v1 import assessment_pb2 as pb

        found, token = [], ""
        while True:
            page = self._call("ScoreServiceStub", "ListRankings", pb.ListRankingsRequest(
                period=period, basis=pb.RANKING_BASIS_ADJUSTED, page_size=EXPORT_PAGE_SIZE, page_token=token))
            found.extend(page.rankings)
            token = page.next_page_token
            if not token:
                return found

    def period_score(self, period: str, office_id: str):
        """An office's OfficeScore in a closed period."""
        from supervision.assessment.v1 import assessment_pb2 as pb

        return self._call("ScoreServiceStub", "GetPeriodScore",
                          pb.GetPeriodScoreRequest(period=period, office_id=office_id))

    def officer_assessments(self, quarter: str) -> list:
        """Every OfficerAssessment the caller may see, of one quarter ("" = every quarter)."""
        from supervision.assessment.v1 import assessment_pb2 as pb

        found, token = [], ""
        terms = f'quarter = "{quarter}"' if quarter else ""
        while True:
            page = self._call("StaffAssessmentServiceStub", "ListOfficerAssessments",
                              pb.ListOfficerAssessmentsRequest(page_size=EXPORT_PAGE_SIZE, page_token=token,
                                                               filter=terms))
            found.extend(page.assessments)
            token = page.next_page_token
            if not token:
                return found

    @staticmethod
    def grade_name(value: int) -> str:
        """A Grade value's enum name, e.g. GRADE_GOOD."""
        from supervision.assessment.v1 import assessment_pb2 as pb

        return pb.Grade.Name(value) if value in pb.Grade.values() else ""


def _assessment_error(error: grpc.RpcError) -> Exception:
    """assessment's refusal as the gateway's own: the caller's mistakes and rights stay 4xx, outages 503."""
    code, details = error.code(), error.details() or ""
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        # assessment names a period as `period`, or `filter` when it came as the quarter term
        found = [FieldViolation("period" if field in ("period", "filter", "quarter") else field, description)
                 for field, description in _field_violations(error)]
        return InvalidArgument(f"考核服务拒绝了请求 / assessment refused the request: {details}", found)
    if code == grpc.StatusCode.NOT_FOUND:
        return NotFound(f"考核服务中没有所请求的数据 / not found in assessment: {details}")
    if code == grpc.StatusCode.PERMISSION_DENIED:
        return PermissionDenied(f"无权查看这些考核结果 / may not see these results: {details}")
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return Unauthenticated(f"身份验证失败 / not authenticated: {details}")
    return UpstreamUnavailable(f"考核服务暂时不可用，请稍后再试 / assessment is unavailable ({code.name})")
