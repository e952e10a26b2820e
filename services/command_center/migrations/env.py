from alembic import context

from services.command_center.models import Base
from services.common.migrate import run_env

run_env(context, Base.metadata, "command_center")
