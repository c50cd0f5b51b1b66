"""People: rosters, logins, accounts, roles, and the admin's roster page.

(Roster parsing, logins and accounts still live in hub_config/ itself; the house-redesign issue
moves them here.)
"""
