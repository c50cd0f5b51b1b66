"""What the teacher's page may do in the hub on a teacher's behalf.

Its login token carries these scopes *as far as the teacher holds them*: a teacher of 10A1 holds
`servers!group=class-10a1`, so the page, asking the hub with that token, starts and reads the
servers of 10A1's students and of nobody else. The hub keeps the boundary, not the page.
"""

TEACH_OAUTH_SCOPES = ("servers", "read:servers", "read:users", "list:users")
