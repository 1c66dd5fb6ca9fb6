"""ASGI entry point: HTTP through Django (tenant by host), websockets through tenant → auth → routes."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
django_asgi_app = get_asgi_application()  # sets Django up before the imports below

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from apps.core.routing import websocket_urlpatterns  # noqa: E402
from apps.tenants.websocket import TenantWebsocketMiddleware  # noqa: E402

if settings.JOBS_IN_PROCESS_AUTOSTART:
    # No broker server (embedded default): this process also runs the jobs and periodic work.
    from apps.core.jobs import in_process_scheduler_start, in_process_worker_start

    in_process_worker_start()
    in_process_scheduler_start()

# The origin check is per organization (its allowed_origins), so it lives in the tenant
# middleware rather than in a global AllowedHostsOriginValidator: the widget runs on agencies'
# own sites, whose origins are not our hosts.
application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": TenantWebsocketMiddleware(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
