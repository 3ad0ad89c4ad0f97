"""Reward and special assistance (奖励扶助 / 特别扶助): beneficiaries, payment cycles,
payments and the signals of the cross-checks. Pure domain: no I/O, days and ids are inputs."""
