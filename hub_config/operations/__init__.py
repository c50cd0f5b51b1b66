"""Operations a school relies on: backups of a term's data (and, next, restore, health)."""
