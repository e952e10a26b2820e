from alembic import context

from services.common.migrate import run_env
from services.mobile_enforcement.models import Base

run_env(context, Base.metadata, "mobile_enforcement")
