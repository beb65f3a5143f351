"""The Bolt app: ``/tune``, the card buttons, the modals and the App Home tab.

Every listener acknowledges at once (Slack wants an answer within 3 seconds); the work runs in
lazy listeners, which on Lambda re-invoke the function asynchronously. Modals are the
exception: ``views.open`` needs the click's ``trigger_id`` within 3 seconds, so Details and
"Show all" open them while acknowledging (a store read and a render, no AWS scan).

The acknowledgement path stays light on a cold start: the views, the apply flow and the
services (which pull in the rules engine) are imported by the listeners that use them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App, BoltResponse, Respond
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from bot.errors import BotError
from bot.membership import GroupDirectory
from bot.rendering import render_blocks, render_view
from bot.settings import DISMISS_DAYS, BotSettings
from service.errors import FunctionNotFoundError, ServiceError

if TYPE_CHECKING:
    from bot.approvals import ApplyFlow, FlowResult
    from bot.views import RecState
    from service.api import StoredRecommendation, TunebotServices

logger = logging.getLogger(__name__)

# A function name, a partial or full ARN (with an optional qualifier), as Lambda accepts.
_FUNCTION_NAME = re.compile(
    r"^(arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:)?[A-Za-z0-9_-]{1,140}(:[A-Za-z0-9$_-]+)?$"
)
HOME_ITEMS = 8
SOMETHING_WENT_WRONG = "Something went wrong on tunebot's side; the details are in its logs."
# A failure while applying or undoing may come after AWS made the change (the audit write,
# say), so the person who clicked is not told that nothing changed.
CHANGE_UNCERTAIN = (
    "Something went wrong on tunebot's side while making this change, so it may or may not "
    "have been made; the details are in its logs. Run /tune again to see the function's "
    "configuration before trying again."
)

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _notice(text: str, icon: str = "") -> list[dict[str, Any]]:
    return render_blocks("notice.j2", text=text, icon=icon)


def _skip_event_retries(
    req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
) -> BoltResponse:
    """Slack re-sends an event it thinks was lost (X-Slack-Retry-Num); the first delivery
    already scheduled the work, so a retry is acknowledged and dropped."""
    retried = req.headers.get("x-slack-retry-num")
    if retried and isinstance(req.body, dict) and req.body.get("type") == "event_callback":
        return BoltResponse(status=200, body="")
    return next()


class Listeners:
    """The listeners, sharing the settings, the services and the apply flow."""

    def __init__(
        self,
        settings: BotSettings,
        services: TunebotServices,
        groups: GroupDirectory,
        now: Clock = _utc_now,
    ) -> None:
        self.settings = settings
        self.services = services
        self.now = now
        self.groups = groups
        self._flow: ApplyFlow | None = None

    @property
    def flow(self) -> ApplyFlow:
        if self._flow is None:
            from bot.approvals import ApplyFlow

            self._flow = ApplyFlow(self.settings, self.services, self.groups.groups_of)
        return self._flow

    # ---- /tune -----------------------------------------------------------------------------

    @staticmethod
    def _words(command: dict[str, Any]) -> list[str]:
        return str(command.get("text") or "").split()

    @classmethod
    def answered_at_once(cls, command: dict[str, Any]) -> bool:
        """Help and malformed input need no lazy work (and no second Lambda invocation)."""
        words = cls._words(command)
        if not words or words[0].lower() == "help":
            return True
        return words[0].lower() != "scan" and (len(words) > 1 or not _FUNCTION_NAME.match(words[0]))

    def ack_tune(self, ack: Ack, command: dict[str, Any]) -> None:
        words = self._words(command)
        first = words[0].lower() if words else ""
        if first in ("", "help"):
            ack(
                text="How to use /tune",
                blocks=render_blocks("help.j2", apply_mode=self.settings.apply_mode.value),
            )
        elif first == "scan":
            ack(text=":hourglass_flowing_sand: Scanning the account for the top savings…")
        elif len(words) > 1 or not _FUNCTION_NAME.match(words[0]):
            ack(
                text="Not a function name",
                blocks=_notice(
                    f"'{' '.join(words)[:200]}' is not a Lambda function name. Try /tune help.",
                    ":grey_question:",
                ),
            )
        else:
            ack(text=f":hourglass_flowing_sand: Analysing `{words[0]}`…")

    def run_tune(self, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        words = self._words(command)
        if len(words) != 1 or words[0].lower() == "help":
            return
        with _explained(respond):
            if words[0].lower() == "scan":
                self._scan(command, respond, client)
            elif _FUNCTION_NAME.match(words[0]):
                self._tune(words[0], command, respond, client)

    def _tune(
        self, name: str, command: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        from bot.views import card_view
        from service.api import StoredRecommendation

        user = str(command.get("user_id") or "")
        try:
            analysis = self.services.analyze_function(name)
        except FunctionNotFoundError as error:
            respond(
                text=str(error),
                blocks=render_blocks(
                    "unknown_function.j2", name=name, closest=list(error.closest), region=""
                ),
            )
            return
        self.services.save_recommendations(analysis, requested_by=user)
        recs = analysis.report.recommendations
        dismissed = self.services.active_dismissals(recs, self.now())
        stored = [
            StoredRecommendation(
                recommendation=rec,
                function_tags=analysis.snapshot.tags,
                cloudformation_stack=analysis.snapshot.cloudformation_stack,
                requested_by=user,
                created_at=self.now(),
            )
            for rec in recs
            if rec.id not in dismissed
        ]
        card = card_view(
            analysis.snapshot, stored, self.settings, requested_by=user, now=self.now()
        )
        blocks = render_blocks("card.j2", card=card)
        text = f"Tuning {card.function}: {card.savings}/mo to save"
        self._post(client, respond, str(command.get("channel_id") or ""), text, blocks)

    def _scan(self, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        from bot.views import SCAN_LIST_SIZE, scan_view

        report = self.services.scan_fleet()
        view = scan_view(report.recommendations, len(report.functions), report.errors)
        blocks = render_blocks("scan.j2", scan=view, list_size=SCAN_LIST_SIZE)
        text = f"Top savings: {view.total_savings}/mo across {view.functions} functions"
        self._post(client, respond, str(command.get("channel_id") or ""), text, blocks)

    @staticmethod
    def _post(
        client: WebClient, respond: Respond, channel: str, text: str, blocks: list[dict[str, Any]]
    ) -> None:
        """Post in the channel; where the bot may not post, show it to the requester only."""
        from slack_sdk.errors import SlackApiError

        try:
            client.chat_postMessage(channel=channel, text=text, blocks=blocks)
        except SlackApiError as error:
            reason = error.response.get("error", "unknown_error")
            if reason not in ("not_in_channel", "channel_not_found", "is_archived"):
                raise
            note = _notice(
                "I can't post in this channel, so only you see this card. Invite me with "
                "/invite @tunebot to share it.",
                ":information_source:",
            )
            respond(text=text, blocks=[*note, *blocks])

    # ---- card buttons ----------------------------------------------------------------------

    @staticmethod
    def ack_only(ack: Ack) -> None:
        ack()

    def run_apply(
        self, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        with _explained(respond, client, body, failure=CHANGE_UNCERTAIN):
            result = self.flow.approve(str(action.get("value", "")), body["user"]["id"])
            self._show(body, result, client, respond)

    def run_undo(
        self, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        with _explained(respond, client, body, failure=CHANGE_UNCERTAIN):
            result = self.flow.undo(str(action.get("value", "")), body["user"]["id"])
            self._show(body, result, client, respond)

    def _show(
        self, body: dict[str, Any], result: FlowResult, client: WebClient, respond: Respond
    ) -> None:
        """An approval, apply or undo on the card (the waiting approver is told too); anything
        else (a refusal, a stale or repeated click, a failure) to the clicker alone."""
        from bot.approvals import FlowKind
        from bot.views import RecState

        state = {
            FlowKind.PENDING: RecState.PENDING,
            FlowKind.APPLIED: RecState.APPLIED,
            FlowKind.UNDONE: RecState.UNDONE,
        }.get(result.kind)
        if state is None or result.stored is None:
            self._tell(client, respond, body, result.message, _ICONS.get(result.kind, ""))
            return
        try:
            self._update_card(body, result.stored, client, respond, state, result)
        except Exception:
            logger.exception("could not update the card after %s", result.kind.value)
            done = {
                RecState.PENDING: "Your approval is recorded",
                RecState.APPLIED: "The change was applied",
                RecState.UNDONE: "The change was undone",
            }[state]
            note = f"{done}, but the card could not be updated; /tune shows the current state."
            self._tell(client, respond, body, note, ":warning:")
            return
        if state is RecState.PENDING:
            self._tell(client, respond, body, result.message, ":hourglass:")

    def run_dismiss(
        self, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        from bot.views import RecState, recommendation_view

        user = body["user"]["id"]
        with _explained(respond, client, body):
            stored = self.services.get_recommendation(str(action.get("value", "")))
            if stored is None:
                self._tell(client, respond, body, _UNKNOWN, ":grey_question:")
                return
            until = self.now() + timedelta(days=DISMISS_DAYS)
            self.services.dismiss(stored.recommendation.id, user_id=user, until=until)
            view = recommendation_view(
                stored,
                self.settings,
                state=RecState.DISMISSED,
                dismissed_by=user,
                dismissed_until=until,
            )
            self._replace_blocks(body, stored, view, client, respond)

    def run_benchmark(
        self, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        from bot.approvals import FlowKind
        from bot.benchmark_card import post_benchmark
        from bot.views import benchmarkable, recommendation_view

        user = body["user"]["id"]
        with _explained(respond, client, body):
            checked = self.flow.authorise(str(action.get("value", "")), user)
            if checked.kind is not FlowKind.PENDING or checked.stored is None:
                message = checked.message
                if checked.kind is FlowKind.REFUSED:
                    message = (
                        f"Benchmarks invoke the function, so they need Apply rights. {message}"
                    )
                self._tell(client, respond, body, message, _ICONS.get(checked.kind, ""))
                return
            rec = checked.stored.recommendation
            if not benchmarkable(rec):
                self._tell(client, respond, body, _NOT_BENCHMARKABLE, ":information_source:")
                return
            self._tell(
                client,
                respond,
                body,
                f"Benchmarking {rec.function}; the result will follow in a thread.",
                ":stopwatch:",
            )
            outcome = self.services.benchmark(rec.id, user_id=user)
            follow_up = None
            if outcome.recommendation is not None:
                stored = self.services.get_recommendation(outcome.recommendation.id)
                if stored is not None:
                    follow_up = recommendation_view(stored, self.settings)
            post_benchmark(client, respond, body.get("container") or {}, outcome, follow_up)

    # ---- modals ----------------------------------------------------------------------------

    def open_details(
        self,
        ack: Ack,
        body: dict[str, Any],
        action: dict[str, Any],
        client: WebClient,
        respond: Respond,
    ) -> None:
        from bot.views import details_view

        ack()
        with _explained(respond, client, body):
            stored = self.services.get_recommendation(str(action.get("value", "")))
            if stored is None:
                self._tell(client, respond, body, _UNKNOWN, ":grey_question:")
                return
            view = render_view("details_modal.j2", details=details_view(stored, self.settings))
            if action.get("action_id") == "tune_details_push":
                client.views_push(trigger_id=body["trigger_id"], view=view)
            else:
                client.views_open(trigger_id=body["trigger_id"], view=view)

    def open_list(
        self,
        ack: Ack,
        body: dict[str, Any],
        action: dict[str, Any],
        client: WebClient,
        respond: Respond,
    ) -> None:
        from bot.views import list_page_view

        ack()
        with _explained(respond, client, body):
            arn, _, page_text = str(action.get("value", "")).rpartition("|")
            page = int(page_text) if page_text.isdigit() else 0
            stored = list(self.services.recommendations_for(arn))
            dismissed = self.services.active_dismissals(
                [s.recommendation for s in stored], self.now()
            )
            stored = [s for s in stored if s.recommendation.id not in dismissed]
            if not stored:
                self._tell(client, respond, body, _UNKNOWN, ":grey_question:")
                return
            name = stored[0].recommendation.function
            view = render_view(
                "list_modal.j2", page=list_page_view(name, arn, stored, self.settings, page)
            )
            if action.get("action_id") == "tune_list_page" and body.get("view"):
                client.views_update(view_id=body["view"]["id"], view=view)
            else:
                client.views_open(trigger_id=body["trigger_id"], view=view)

    def open_savings(
        self, ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        """The scan card's "Show all": a modal opened at once (the click's trigger lasts 3
        seconds), which ``fill_savings`` fills from the store; paging updates it in place."""
        ack()
        trigger = body.get("trigger_id")
        if body.get("view") or not trigger:
            return
        with _explained(respond, client, body):
            loading = render_view("notice_modal.j2", text="Reading the top savings…", icon="")
            client.views_open(
                trigger_id=trigger, view={**loading, "external_id": _savings_view_id(body)}
            )

    def fill_savings(
        self, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        from bot.views import SCAN_LIST_SIZE, savings_page_view

        with _explained(respond, client, body):
            value = str(action.get("value", ""))
            page = int(value) if value.isdigit() else 0
            recommendations = list(self.services.top_savings(SCAN_LIST_SIZE + 1))
            view = render_view("savings_modal.j2", page=savings_page_view(recommendations, page))
            if body.get("view"):
                client.views_update(view_id=body["view"]["id"], view=view)
            else:
                client.views_update(external_id=_savings_view_id(body), view=view)

    # ---- App Home --------------------------------------------------------------------------

    def publish_home(self, event: dict[str, Any], client: WebClient) -> None:
        from bot.views import home_view

        if event.get("tab", "home") != "home":
            return
        user = str(event.get("user") or "")
        try:
            view = home_view(
                user,
                list(self.services.top_savings(HOME_ITEMS)),
                list(self.services.pending_approvals(HOME_ITEMS)),
                list(self.services.recent_changes(HOME_ITEMS)),
                self.settings,
            )
            client.views_publish(user_id=user, view=render_view("home.j2", home=view))
        except Exception:  # the tab keeps its last view; nothing to tell a user who only looked
            logger.exception("could not publish the home tab for %s", user)

    # ---- helpers ---------------------------------------------------------------------------

    def _update_card(
        self,
        body: dict[str, Any],
        stored: StoredRecommendation,
        client: WebClient,
        respond: Respond,
        state: RecState,
        result: FlowResult,
    ) -> None:
        from bot.views import recommendation_view

        view = recommendation_view(
            stored, self.settings, state=state, approvers=result.approvers, record=result.record
        )
        self._replace_blocks(body, stored, view, client, respond)

    def _replace_blocks(
        self,
        body: dict[str, Any],
        stored: StoredRecommendation,
        view: Any,
        client: WebClient,
        respond: Respond,
    ) -> None:
        """Swap one recommendation's blocks in the clicked message (chat.update in place), and
        the card's cost summary with them."""
        message = body.get("message") or {}
        container = body.get("container") or {}
        recommendation_id = stored.recommendation.id
        new_blocks = render_blocks("recommendation.j2", rec=view)
        blocks: list[dict[str, Any]] = []
        replaced = False
        for block in message.get("blocks") or []:
            if str(block.get("block_id", "")).startswith(recommendation_id + ":"):
                if not replaced:
                    blocks.extend(new_blocks)
                    replaced = True
                continue
            blocks.append(block)
        if not replaced:
            return
        blocks = self._with_summary(blocks, stored)
        text = str(message.get("text") or view.title)
        if container.get("is_ephemeral") or not container.get("message_ts"):
            respond(text=text, blocks=blocks, replace_original=True)
        else:
            client.chat_update(
                channel=container["channel_id"],
                ts=container["message_ts"],
                text=text,
                blocks=blocks,
            )

    def _with_summary(
        self, blocks: list[dict[str, Any]], stored: StoredRecommendation
    ) -> list[dict[str, Any]]:
        """The blocks with the card's "cost now → after" recomputed: savings from the store,
        states as the card shows them (a message without a summary, a benchmark's, is left
        alone)."""
        from bot.views import (
            SUMMARY_BLOCK,
            RecState,
            card_summary,
            hidden_on_card,
            recommendation_states,
        )

        position = next(
            (
                i
                for i, block in enumerate(blocks)
                if str(block.get("block_id", "")).startswith(SUMMARY_BLOCK)
            ),
            None,
        )
        if position is None:
            return blocks
        states = recommendation_states(blocks)
        on_card = {stored.recommendation.id: stored.recommendation}
        for rec_id in states.keys() - on_card.keys():
            found = self.services.get_recommendation(rec_id)
            if found is not None:
                on_card[rec_id] = found.recommendation
        dismissed = self.services.active_dismissals(list(on_card.values()), self.now())
        open_savings = applied_savings = 0.0
        count = 0
        for rec_id, item in on_card.items():
            saving = max(0.0, item.monthly_savings_usd or 0.0)
            state = states.get(rec_id, RecState.OPEN)
            if state is RecState.APPLIED:
                applied_savings += saving
            elif state in (RecState.OPEN, RecState.PENDING) and rec_id not in dismissed:
                open_savings += saving
                count += 1
        rec = stored.recommendation
        summary = card_summary(
            rec.function,
            rec.region,
            rec.account_id,
            stored.function_monthly_cost_usd,
            open_savings=open_savings,
            applied_savings=applied_savings,
            count=count,
            hidden=hidden_on_card(str(blocks[position].get("block_id", ""))),
        )
        return [
            *blocks[:position],
            *render_blocks("card_summary.j2", summary=summary),
            *blocks[position + 1 :],
        ]

    @staticmethod
    def _tell(
        client: WebClient, respond: Respond, body: dict[str, Any], text: str, icon: str = ""
    ) -> None:
        """An ephemeral message to the person who clicked."""
        _tell(client, respond, body, text, icon)


def _savings_view_id(body: dict[str, Any]) -> str:
    """The savings modal's external id: unique per click, known to the lazy part too."""
    return f"tune-savings-{body.get('trigger_id', '')}"[:255]


_UNKNOWN = "tunebot no longer knows this recommendation: run /tune again."
_NOT_BENCHMARKABLE = (
    "Benchmarks measure memory sizes and architectures, so they can only check a memory or "
    "architecture change; apply this one or read its Details."
)
# By FlowKind value (a StrEnum, so its members look these up directly).
_ICONS = {
    "refused": ":no_entry:",
    "stale": ":warning:",
    "already_done": ":information_source:",
    "failed": ":x:",
    "unknown": ":grey_question:",
}


def _tell(
    client: WebClient | None,
    respond: Respond,
    body: dict[str, Any] | None,
    text: str,
    icon: str = "",
) -> None:
    blocks = _notice(text, icon)
    channel = ((body or {}).get("container") or {}).get("channel_id") or (
        (body or {}).get("channel") or {}
    ).get("id")
    user = ((body or {}).get("user") or {}).get("id")
    if client is not None and channel and user:
        from slack_sdk.errors import SlackApiError

        try:
            client.chat_postEphemeral(channel=channel, user=user, text=text, blocks=blocks)
            return
        except SlackApiError as error:
            # A channel the bot is not in (the card was shown to one person only).
            logger.info("chat.postEphemeral failed (%s); using the response URL", error)
    # Bolt passes a Respond even where Slack sent no response_url (the App Home, modals).
    if respond is not None and getattr(respond, "response_url", None):
        respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
        return
    trigger = (body or {}).get("trigger_id")
    if client is not None and trigger:
        # A click in the App Home or a modal, still within its trigger's 3 seconds: a small modal.
        from slack_sdk.errors import SlackApiError

        view = render_view("notice_modal.j2", text=text, icon=icon)
        in_modal = ((body or {}).get("view") or {}).get("type") == "modal"
        try:
            if in_modal:
                client.views_push(trigger_id=trigger, view=view)
            else:
                client.views_open(trigger_id=trigger, view=view)
            return
        except SlackApiError as error:  # an expired trigger, after lazy work
            logger.info("could not open a notice (%s)", error)
    logger.info("could not tell %s: %s", user, text)


class _explained:
    """Turns failures inside a lazy listener into one sentence for the user (and a log line).

    Nothing is re-raised: on Lambda a raised error would make the asynchronous invocation
    retry, and the user already knows what happened.
    """

    def __init__(
        self,
        respond: Respond,
        client: WebClient | None = None,
        body: dict[str, Any] | None = None,
        *,
        failure: str = SOMETHING_WENT_WRONG,
    ) -> None:
        self.respond, self.client, self.body = respond, client, body
        self.failure = failure

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: Any
    ) -> bool:
        if error is None or not isinstance(error, Exception):
            return False
        if isinstance(error, BotError | ServiceError):
            message, icon = str(error), ":warning:"
        else:
            logger.exception("listener failed", exc_info=error)
            message, icon = self.failure, ":x:"
        try:
            _tell(self.client, self.respond, self.body, message, icon)
        except Exception:
            logger.exception("could not tell the user about a failure")
        return True


def build_app(
    *,
    settings: BotSettings,
    services: TunebotServices,
    client: WebClient,
    signing_secret: str,
    now: Clock = _utc_now,
    verify_requests: bool = True,
) -> App:
    """The Bolt app with every listener registered; Lambda specifics stay in handlers/.

    ``verify_requests=False`` turns off Bolt's signature check, for a caller that verified
    every request itself (``handlers.slack`` does, and also accepts its own late lazy work).
    """
    app = App(
        client=client,
        signing_secret=signing_secret,
        request_verification_enabled=verify_requests,
        process_before_response=True,
        # auth.test runs once, on the first request, not while the container starts.
        token_verification_enabled=False,
        # Our own logger, never a Powertools Logger (Bolt needs a standard one).
        logger=logging.getLogger("tunebot.bolt"),
    )
    app.middleware(_skip_event_retries)
    groups = GroupDirectory(client, settings.policy.group_ids())
    listeners = Listeners(settings, services, groups, now)
    app.command("/tune", matchers=[listeners.answered_at_once])(listeners.ack_tune)
    app.command("/tune")(ack=listeners.ack_tune, lazy=[listeners.run_tune])
    app.action("tune_apply")(ack=listeners.ack_only, lazy=[listeners.run_apply])
    app.action("tune_undo")(ack=listeners.ack_only, lazy=[listeners.run_undo])
    app.action("tune_dismiss")(ack=listeners.ack_only, lazy=[listeners.run_dismiss])
    app.action("tune_benchmark")(ack=listeners.ack_only, lazy=[listeners.run_benchmark])
    app.action(re.compile(r"^tune_details(_push)?$"))(listeners.open_details)
    app.action(re.compile(r"^tune_(show_more|list_page)$"))(listeners.open_list)
    app.action(re.compile(r"^tune_savings_(all|page)$"))(
        ack=listeners.open_savings, lazy=[listeners.fill_savings]
    )
    app.event("app_home_opened")(ack=listeners.ack_only, lazy=[listeners.publish_home])
    return app
