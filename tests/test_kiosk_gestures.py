"""Gestures on scripted edge timelines: the real recogniser, the clock in the test's hands."""
from __future__ import annotations

from kiosk.actions import Action, ActionError, ButtonEvent, parse_action
from kiosk.gestures import Gestures, Timings

import pytest

T = Timings(debounce_s=0.05, min_press_s=0.15, repeat_guard_s=1.0, hold_s=10.0)


def run(timeline, until, holds=frozenset(), timings=T):
    """Feed (t, button, pressed) edges, advancing the clock in 10 ms steps; returns
    (kind, button, time fired) for every gesture."""
    g = Gestures(timings, frozenset(holds))
    fired = []
    events = sorted(timeline)
    t = 0.0
    i = 0
    while t <= until:
        while i < len(events) and events[i][0] <= t:
            at, button, pressed = events[i]
            fired += [(x.kind, x.button, round(t, 3)) for x in g.edge(ButtonEvent(button, pressed, at))]
            i += 1
        fired += [(x.kind, x.button, round(t, 3)) for x in g.advance(t)]
        t = round(t + 0.01, 3)
    return fired


def test_a_clean_press_fires_once_on_release_after_the_debounce():
    fired = run([(0.0, "play", True), (0.3, "play", False)], 1.0)
    assert fired == [("press", "play", 0.35)]


def test_bounces_shorter_than_the_debounce_are_one_press():
    edges = [(0.0, "play", True), (0.005, "play", False), (0.01, "play", True), (0.012, "play", False),
             (0.015, "play", True), (0.4, "play", False), (0.41, "play", True), (0.415, "play", False)]
    fired = run(edges, 1.0)
    assert [f[:2] for f in fired] == [("press", "play")]


def test_a_bounce_in_the_middle_of_a_long_press_does_not_split_it_in_two():
    # Both halves are longer than the tremor filter and the repeat guard is off, so only
    # the debounce keeps a worn contact's flicker from counting as a second press.
    no_guard = Timings(debounce_s=0.05, min_press_s=0.15, repeat_guard_s=0.0, hold_s=10.0)
    edges = [(0.0, "play", True), (0.30, "play", False), (0.31, "play", True), (0.60, "play", False)]
    fired = run(edges, 1.5, timings=no_guard)
    assert [f[:2] for f in fired] == [("press", "play")], fired
    assert fired[0][2] == pytest.approx(0.65)


def test_a_brush_shorter_than_the_tremor_filter_does_nothing():
    assert run([(0.0, "play", True), (0.1, "play", False)], 1.0) == []


def test_the_same_button_within_the_repeat_guard_is_ignored_but_another_button_is_not():
    edges = [(0.0, "play", True), (0.3, "play", False),
             (0.6, "play", True), (0.9, "play", False),          # shaky second press: ignored
             (0.5, "next", True), (0.8, "next", False),          # another button: acts
             (1.6, "play", True), (1.9, "play", False)]          # after the guard: acts
    fired = run(edges, 3.0)
    assert [(k, b) for k, b, _ in fired] == [("press", "play"), ("press", "next"), ("press", "play")]


def test_a_long_hold_fires_at_the_hold_time_and_not_again_on_release():
    fired = run([(0.0, "staff", True), (12.0, "staff", False)], 13.0, holds={"staff"})
    assert fired == [("hold", "staff", 10.0)]


def test_leaning_on_a_button_without_a_hold_action_is_one_press_on_release():
    fired = run([(0.0, "play", True), (12.0, "play", False)], 13.0, holds={"staff"})
    assert fired == [("press", "play", 12.05)]


def test_letting_go_before_the_hold_time_is_a_press():
    fired = run([(0.0, "staff", True), (2.0, "staff", False)], 3.0, holds={"staff"})
    assert fired == [("press", "staff", 2.05)]


def test_due_says_when_to_wake_up():
    g = Gestures(T, frozenset({"staff"}))
    assert g.due() is None
    g.edge(ButtonEvent("staff", True, 1.0))
    assert g.due() == pytest.approx(1.05)
    g.advance(1.05)
    assert g.due() == pytest.approx(11.0)


@pytest.mark.parametrize("text, action", [
    ("play", Action("play")), ("Volume-Up", Action("volume_up")), ("decade:1950", Action("decade", "1950")),
    ("decade:1950s", Action("decade", "1950")), ("resident: Mary  Smith", Action("resident", "Mary Smith")),
    ("decade:all", Action("decade", "")),
])
def test_action_names(text, action):
    assert parse_action(text) == action


@pytest.mark.parametrize("text", ["dance", "decade:1955", "resident:", "resident", "next:3", "playlist:hymns"])
def test_unknown_actions_are_refused_plainly(text):
    with pytest.raises(ActionError):
        parse_action(text)
