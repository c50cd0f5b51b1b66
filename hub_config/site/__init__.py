"""What the whole site shares: settings, paths, errors, the school's clock and words.

(Settings, paths and errors still live in hub_config/ itself; the house-redesign issue moves them
here.)
"""
