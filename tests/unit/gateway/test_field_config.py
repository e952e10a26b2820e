"""The field app's settings (ATTACHMENT_*, OIDC_*): defaults, and a bad value naming its variable."""

from __future__ import annotations

import pytest

from services.common.config import ConfigError
from services.gateway.config import GatewayConfig
from services.gateway.http_api.field_support import FieldSettings


def test_the_defaults_keep_attachments_under_the_data_directory():
    config = GatewayConfig.from_env({"DATA_DIR": "/srv/data"})
    assert config.attachment_store == "directory" and config.attachment_dir == "/srv/data/attachments"
    assert config.attachment_max_bytes == 10 * 1024 * 1024
    assert config.oidc_issuer == "" and config.oidc_scopes == "openid profile"


@pytest.mark.parametrize(("env", "variable"), [
    ({"ATTACHMENT_STORE": "ftp"}, "ATTACHMENT_STORE"),
    ({"ATTACHMENT_STORE": "s3"}, "ATTACHMENT_S3_BUCKET"),
    ({"ATTACHMENT_MAX_BYTES": "0"}, "ATTACHMENT_MAX_BYTES"),
    ({"ATTACHMENT_MAX_BYTES": "ten"}, "ATTACHMENT_MAX_BYTES"),
    ({"ATTACHMENT_MAX_BYTES": str(64 * 1024 * 1024 + 1)}, "ATTACHMENT_MAX_BYTES"),
    ({"ATTACHMENT_S3_ENDPOINT": "minio:9000"}, "ATTACHMENT_S3_ENDPOINT"),
    ({"OIDC_ISSUER": "id.example.gov.cn"}, "OIDC_ISSUER"),
    ({"OIDC_ISSUER": "http://id.example.gov.cn", "OIDC_CLIENT_ID": "field"}, "OIDC_ISSUER"),
    ({"OIDC_ISSUER": "https://id.example.gov.cn"}, "OIDC_CLIENT_ID"),
    ({"OIDC_TOKEN_ENDPOINT": "ftp://x"}, "OIDC_TOKEN_ENDPOINT"),
])
def test_a_bad_value_stops_the_start_naming_the_variable(env, variable):
    with pytest.raises(ConfigError, match=variable):
        GatewayConfig.from_env(env)


def test_the_identity_provider_s_origins_are_what_the_pages_may_reach():
    config = GatewayConfig.from_env({"OIDC_ISSUER": "https://id.example.gov.cn/realms/sh/", "OIDC_CLIENT_ID": "field",
                                     "OIDC_TOKEN_ENDPOINT": "https://token.example.gov.cn:8443/token",
                                     "OIDC_SCOPES": "openid  profile office"})
    settings = FieldSettings.from_config(config, store=None)
    assert settings.extra_origins == ("https://id.example.gov.cn", "https://token.example.gov.cn:8443")
    assert settings.oidc() == {"issuer": "https://id.example.gov.cn/realms/sh", "client_id": "field",
                               "scopes": "openid profile office", "authorization_endpoint": "",
                               "token_endpoint": "https://token.example.gov.cn:8443/token"}
    local = GatewayConfig.from_env({"OIDC_ISSUER": "http://localhost:9000", "OIDC_CLIENT_ID": "field"})
    assert local.oidc_issuer == "http://localhost:9000"
