"""Every FPB_* setting is documented: the committed reference is what the settings
classes generate, and every setting says what it means."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli import configuration

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_the_committed_configuration_reference_matches_the_settings_classes():
    assert COMMITTED.read_text(encoding="utf-8") == configuration.rendered(), "run `fpb contracts` and commit docs/configuration.md"


@pytest.mark.parametrize("service", sorted(configuration.settings_classes()))
def test_every_setting_of_every_service_says_what_it_means(service):
    settings = configuration.settings_classes()[service]
    undescribed = [name for name, field in settings.model_fields.items() if not (field.description or "").strip()]
    assert undescribed == [], f"{service}: give these settings a description: {undescribed}"


def test_a_name_two_services_read_differently_is_shown_per_service():
    readers = configuration.variables()["FPB_SEX_RATIO_MIN_BIRTHS"]
    row = next(line for line in configuration.rendered().splitlines() if line.startswith("| `FPB_SEX_RATIO_MIN_BIRTHS`"))

    assert set(readers) == {"enforcement", "reporting"}
    assert "enforcement: `10`; reporting: `30`" in row
