"""The bot's configuration, read from an environment mapping by the handler (never here)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from bot.errors import ConfigurationError
from bot.policy import Policy, parse_policy
from recommendations.snapshot import Frozen

DEFAULT_MANAGED_TAG = "tunebot:managed=true"
DISMISS_DAYS = 30


class ApplyMode(StrEnum):
    # Cards show no Apply button; nothing is ever changed from Slack.
    RECOMMEND_ONLY = "recommend-only"
    # Changes wait for the policy's number of distinct approvers.
    APPROVE = "approve"
    # One click by an allowed user applies; per-tag approver counts are ignored.
    DIRECT = "direct"


class BotSettings(Frozen):
    policy: Policy = Policy()
    apply_mode: ApplyMode = ApplyMode.APPROVE
    managed_tag_key: str = "tunebot:managed"
    managed_tag_value: str = "true"
    default_channel: str | None = None
    # Set when the environment was malformed: the bot then refuses every change and says why.
    configuration_error: str | None = None

    @property
    def managed_tag(self) -> str:
        return f"{self.managed_tag_key}={self.managed_tag_value}"

    def is_managed(self, tags: Mapping[str, str]) -> bool:
        return tags.get(self.managed_tag_key) == self.managed_tag_value

    def required_approvals(self, tags: Mapping[str, str]) -> int:
        if self.apply_mode is ApplyMode.DIRECT:
            return 1
        return self.policy.required_approvals(tags)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> BotSettings:
        mode_text = environ.get("TUNEBOT_APPLY_MODE", ApplyMode.APPROVE.value).strip().lower()
        try:
            mode = ApplyMode(mode_text)
        except ValueError:
            allowed = ", ".join(mode.value for mode in ApplyMode)
            raise ConfigurationError(
                f"TUNEBOT_APPLY_MODE must be one of {allowed}, not {mode_text!r}."
            ) from None
        tag = environ.get("TUNEBOT_MANAGED_TAG", DEFAULT_MANAGED_TAG).strip()
        key, separator, value = tag.partition("=")
        if not separator or not key:
            raise ConfigurationError(f"TUNEBOT_MANAGED_TAG must look like key=value, not {tag!r}.")
        return cls(
            policy=parse_policy(environ.get("TUNEBOT_POLICY")),
            apply_mode=mode,
            managed_tag_key=key,
            managed_tag_value=value,
            default_channel=environ.get("TUNEBOT_DEFAULT_CHANNEL") or None,
        )

    @classmethod
    def from_env_or_safe(cls, environ: Mapping[str, str]) -> BotSettings:
        """Like ``from_env``, but a malformed setting gives recommend-only settings that say why,
        so people can still read cards while an admin fixes the configuration."""
        try:
            return cls.from_env(environ)
        except ConfigurationError as error:
            return cls(
                apply_mode=ApplyMode.RECOMMEND_ONLY,
                default_channel=environ.get("TUNEBOT_DEFAULT_CHANNEL") or None,
                configuration_error=str(error),
            )
