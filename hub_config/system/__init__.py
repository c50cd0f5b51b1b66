"""The machine under the hub: Linux accounts, control groups, processes and the environment we start them in."""
