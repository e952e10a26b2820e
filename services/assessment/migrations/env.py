from alembic import context

from services.assessment.models import Base
from services.common.migrate import run_env

run_env(context, Base.metadata, "assessment")
