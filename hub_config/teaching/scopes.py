"""The staff service's place in the hub: its name, its URL prefix, and what it may do there on a
teacher's behalf. One owner, read by the launcher (which starts it), the hub's configuration (which
registers it), the spawner (JupyterLab's menu) and the hub's pages (template variable).

Its login token carries TEACH_OAUTH_SCOPES *as far as the teacher holds them*: a teacher of 10A1
holds `servers!group=class-10a1`, so the page, asking the hub with that token, starts and reads the
servers of 10A1's students and of nobody else. The hub keeps the boundary, not the page.
"""

TEACH_SERVICE = "stemlab-teach"
TEACH_PREFIX = f"/services/{TEACH_SERVICE}/"
TEACH_ACCESS_SCOPE = f"access:services!service={TEACH_SERVICE}"
TEACH_OAUTH_SCOPES = ("servers", "read:servers", "read:users", "list:users")
# An offering's production formgrader asks the staff service to autograde here (with its own token,
# whose role holds TEACH_ACCESS_SCOPE): hub_config/teaching/formgrader_guard.py and teaching/formgrader_grading.py
TEACH_GRADE_API = "api/formgrader-autograde"

# The exchange service (hub_config/teaching/exchange_service.py), with `[exchange] kind = "service"`:
# every user's server and every offering's formgrader reach it with their own token
EXCHANGE_SERVICE = "stemlab-exchange"
EXCHANGE_ACCESS_SCOPE = f"access:services!service={EXCHANGE_SERVICE}"
