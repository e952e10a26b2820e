"""The services' refusals of field actions in Chinese first, their English kept."""

from __future__ import annotations

from services.gateway.domain.field_messages import translate, translated


def test_a_known_message_is_translated_with_its_numbers():
    assert translate("location.address", "at most 200 characters") == "地址不能超过 200 个字 / at most 200 characters"
    assert translate("rectification_due", "required when rectification is ordered").startswith("责令整改时须填写")


def test_an_unknown_message_keeps_its_english_after_a_chinese_phrase():
    assert translate("colour", "must be red") == "请检查此项 / must be red"
    assert translate("location.address", "something new") == "请检查此项 / something new"


def test_every_violation_keeps_its_field():
    found = translated([("findings", "give at least one item's result"), ("x", "y")])
    assert [v.field for v in found] == ["findings", "x"]
    assert found[0].description == "请至少填写一项检查结果 / give at least one item's result"
