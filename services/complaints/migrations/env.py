from alembic import context

from services.common.migrate import run_env
from services.complaints.models import Base

run_env(context, Base.metadata, "complaints")
