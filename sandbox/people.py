"""Who is in the sandbox workspace, and the demo ``TUNEBOT_POLICY`` that says what they may do."""

from __future__ import annotations

import json

from sandbox.workspace import Channel, DemoUser

ALICE = DemoUser(
    id="U0ALICE001",
    name="alice",
    real_name="Alice Applier",
    role="May apply changes (named in TUNEBOT_POLICY). Production changes also need a second "
    "approver.",
)
BOB = DemoUser(
    id="U0BOB00001",
    name="bob",
    real_name="Bob Reviewer",
    role="May apply and approve through the @platform user group: the second approver for "
    "production functions.",
)
CAROL = DemoUser(
    id="U0CAROL001",
    name="carol",
    real_name="Carol Reader",
    role="Not in TUNEBOT_POLICY: sees every card, but tunebot refuses her clicks on Apply.",
)
USERS = (ALICE, BOB, CAROL)

PLATFORM_GROUP = "S0PLATFORM1"
USERGROUPS = {PLATFORM_GROUP: (BOB.id,)}

TUNEBOT_CHANNEL = Channel(
    id="C0TUNEBOT01",
    name="tunebot",
    topic="Alerts and cards land here (TUNEBOT_DEFAULT_CHANNEL). Try /tune thumbnail-native.",
)
PLATFORM_CHANNEL = Channel(
    id="C0PLATFRM01", name="platform-team", topic="Another channel: /tune works anywhere."
)
CHANNELS = (TUNEBOT_CHANNEL, PLATFORM_CHANNEL)

# Alice by name, Bob through a user group; functions tagged env=prod need two approvers.
POLICY = {
    "appliers": [ALICE.id, PLATFORM_GROUP],
    "approvers": 1,
    "rules": [{"tag": "env=prod", "approvers": 2}],
}


def policy_json() -> str:
    return json.dumps(POLICY)
