"""A person's path through the sandbox page, in Debian's Chromium driven by Playwright.

``make test`` installs Chromium at /usr/bin/chromium when it is missing (Playwright's own
browser download is not used). Screenshots of every step go to ``test-output/sandbox/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect, sync_playwright

from sandbox.app import Sandbox, SandboxOptions
from sandbox.bridge import ACK_DEADLINE_S
from sandbox.people import ALICE, TUNEBOT_CHANNEL

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "sandbox"
CARD_TIMEOUT_MS = 45_000


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    running = Sandbox(SandboxOptions(functions=("thumbnail-native", "checkout-api")))
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}: `make test` installs it "
            "(apt-get install -y chromium)."
        )
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1360, "height": 900},
        )
        yield context
        context.close()


@pytest.fixture(scope="module")
def page(browser: BrowserContext, sandbox: Sandbox) -> Iterator[Page]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    opened = browser.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.goto(sandbox.url)
    yield opened
    assert errors == [], f"the page raised: {errors}"
    opened.close()


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def act_as(page: Page, label: str) -> None:
    page.get_by_label("Acting as").select_option(label=label)


def actions_of(page: Page, recommendation_title: str) -> Locator:
    """The button row under the recommendation whose section starts with the title."""
    section = page.locator(".block-section", has_text=recommendation_title).last
    return section.locator("xpath=following-sibling::div[contains(@class, 'block-actions')][1]")


def apply_and_confirm(page: Page, recommendation_title: str) -> None:
    actions_of(page, recommendation_title).get_by_role("button", name="Apply").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("Set memory of thumbnail-native from 1536 MB to 704 MB")
    dialog.get_by_role("button", name="Apply").click()
    expect(dialog).to_be_hidden()


def memory_of(sandbox: Sandbox, function: str) -> int:
    config = sandbox.aws.client("lambda").get_function_configuration(FunctionName=function)
    return int(config["MemorySize"])


MEMORY_TITLE = "Reduce memory from 1536 MB to 704 MB"


def test_tune_shows_the_card(page: Page) -> None:
    composer = page.get_by_label("Message #tunebot")
    composer.fill("/tune thumbnail-native")
    composer.press("Enter")
    expect(page.get_by_role("heading", name="Tuning thumbnail-native")).to_be_visible(
        timeout=CARD_TIMEOUT_MS
    )
    expect(page.get_by_text(MEMORY_TITLE)).to_be_visible()
    shot(page, "1-card")


def test_an_unauthorised_user_sees_the_refusal(page: Page, sandbox: Sandbox) -> None:
    act_as(page, "Carol Reader (@carol)")
    expect(page.get_by_role("heading", name="Tuning thumbnail-native")).to_be_visible()
    apply_and_confirm(page, MEMORY_TITLE)
    expect(
        page.get_by_text("You are not allowed to apply changes (not listed in TUNEBOT_POLICY).")
    ).to_be_visible(timeout=CARD_TIMEOUT_MS)
    shot(page, "2-refused")
    assert memory_of(sandbox, "thumbnail-native") == 1536


def test_an_authorised_user_applies_and_the_function_changes(page: Page, sandbox: Sandbox) -> None:
    act_as(page, "Alice Applier (@alice)")
    # Carol's refusal was only ever shown to Carol.
    expect(page.get_by_text("You are not allowed to apply changes")).to_have_count(0)
    apply_and_confirm(page, MEMORY_TITLE)
    expect(page.get_by_text(re.compile(r"Applied by @alice"))).to_be_visible(
        timeout=CARD_TIMEOUT_MS
    )
    expect(actions_of(page, MEMORY_TITLE).get_by_role("button", name="Undo")).to_be_visible()
    shot(page, "3-applied")
    assert memory_of(sandbox, "thumbnail-native") == 704


def test_undo_puts_the_function_back(page: Page, sandbox: Sandbox) -> None:
    actions_of(page, MEMORY_TITLE).get_by_role("button", name="Undo").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_have_accessible_name("Undo this change?")
    dialog.get_by_role("button", name="Undo").click()
    expect(page.get_by_text(re.compile(r"Undone by @alice"))).to_be_visible(timeout=CARD_TIMEOUT_MS)
    shot(page, "4-undone")
    assert memory_of(sandbox, "thumbnail-native") == 1536


PROD_TITLE = "Reduce memory from 1024 MB to 256 MB"


def test_a_production_change_waits_for_a_second_approver(page: Page, sandbox: Sandbox) -> None:
    composer = page.get_by_label("Message #tunebot")
    composer.fill("/tune checkout-api")
    composer.press("Enter")
    expect(page.get_by_role("heading", name="Tuning checkout-api")).to_be_visible(
        timeout=CARD_TIMEOUT_MS
    )
    actions_of(page, PROD_TITLE).get_by_role("button", name="Approve (0/2)").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Approved by @alice (1 of 2)")).to_be_visible(timeout=CARD_TIMEOUT_MS)
    assert memory_of(sandbox, "checkout-api") == 1024
    shot(page, "5-one-of-two")

    act_as(page, "Bob Reviewer (@bob)")
    actions_of(page, PROD_TITLE).get_by_role("button", name="Approve (1/2)").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Approve").click()
    expect(page.get_by_text(re.compile(r"Applied by @bob"))).to_be_visible(timeout=CARD_TIMEOUT_MS)
    shot(page, "6-approved")
    assert memory_of(sandbox, "checkout-api") == 256
    act_as(page, "Alice Applier (@alice)")


def test_firing_an_alarm_brings_an_alert_card(page: Page) -> None:
    page.get_by_label("Function").select_option("checkout-api")
    page.get_by_role("button", name="Fire a CloudWatch alarm").click()
    expect(page.get_by_role("heading", name="Alarm: checkout-api-p99-duration")).to_be_visible(
        timeout=CARD_TIMEOUT_MS
    )
    expect(page.get_by_role("status")).to_have_text(
        "tunebot posted the CloudWatch alarm for checkout-api."
    )
    shot(page, "7-alarm")


NEW_TAB = 'target="_blank" rel="noopener noreferrer"'


@pytest.mark.parametrize(
    ("mrkdwn", "html"),
    [
        (
            "*Saves $12/mo* and _maybe_ ~not~",
            "<strong>Saves $12/mo</strong> and <em>maybe</em> <del>not</del>",
        ),
        ("Type `/tune <function>` here", "Type <code>/tune &lt;function&gt;</code> here"),
        ("a &lt;b&gt; &amp; c", "a &lt;b&gt; &amp; c"),
        (
            "<script>alert(1)</script>",
            f'<a href="#" {NEW_TAB}>script</a>alert(1)<a href="#" {NEW_TAB}>/script</a>',
        ),
        (
            "by <@U0ALICE001> in <#C0TUNEBOT01>",
            'by <span class="mention">@alice</span> in <span class="mention">#tunebot</span>',
        ),
        (
            "<https://example.com/x?a=1&b=2|the docs>",
            f'<a href="https://example.com/x?a=1&amp;b=2" {NEW_TAB}>the docs</a>',
        ),
        (":white_check_mark: applied :unknown_thing:", "\u2705 applied :unknown_thing:"),
        ("line one\n&gt; quoted", 'line one<br><q class="quote">quoted</q>'),
    ],
)
def test_mrkdwn_renders_like_slack_and_never_injects_html(
    page: Page, mrkdwn: str, html: str
) -> None:
    assert page.evaluate("text => BlockKit.mrkdwnToHtml(text)", mrkdwn) == html


EVERY_BLOCK = [
    {"type": "header", "text": {"type": "plain_text", "text": ":tada: Done"}},
    {
        "type": "section",
        "block_id": "s1",
        "text": {"type": "mrkdwn", "text": "*Memory*"},
        "fields": [
            {"type": "mrkdwn", "text": "*Before*\n1024 MB"},
            {"type": "plain_text", "text": "After: 256 MB"},
        ],
        "accessory": {
            "type": "button",
            "action_id": "undo",
            "style": "danger",
            "text": {"type": "plain_text", "text": "Undo"},
        },
    },
    {"type": "context", "elements": [{"type": "mrkdwn", "text": "via `tunebot`"}]},
    {"type": "divider"},
    {
        "type": "actions",
        "block_id": "a1",
        "elements": [
            {
                "type": "static_select",
                "action_id": "pick",
                "placeholder": {"type": "plain_text", "text": "Pick a size"},
                "options": [
                    {"text": {"type": "plain_text", "text": "512 MB"}, "value": "512"},
                    {"text": {"type": "plain_text", "text": "1024 MB"}, "value": "1024"},
                ],
            },
            {
                "type": "overflow",
                "action_id": "more",
                "options": [{"text": {"type": "plain_text", "text": "Snooze"}, "value": "s"}],
            },
        ],
    },
    {"type": "image", "image_url": "/static/favicon.svg", "alt_text": "tunebot logo"},
    {"type": "video", "title": {"type": "plain_text", "text": "?"}},
]


def test_every_block_we_use_renders_with_its_roles(page: Page) -> None:
    summary = page.evaluate(
        """blocks => {
          const root = BlockKit.render(blocks, { idPrefix: "t", onAction: () => {} });
          const text = (selector) => root.querySelector(selector)?.textContent;
          return {
            header: text("h3.block-header"),
            fields: [...root.querySelectorAll(".section-field")].map((f) => f.innerHTML),
            accessory: root.querySelector(".section-accessory button").className,
            context: root.querySelector(".block-context").innerHTML,
            dividers: root.querySelectorAll("hr").length,
            actionsRole: root.querySelector(".block-actions").getAttribute("role"),
            options: [...root.querySelectorAll("select option")].map((o) => o.textContent),
            menu: root.querySelector("[role=menu]").hidden,
            menuItems: [...root.querySelectorAll("[role=menuitem]")].map((i) => i.textContent),
            image: root.querySelector("img.block-image").alt,
            unknown: text(".unsupported"),
          };
        }""",
        EVERY_BLOCK,
    )
    assert summary == {
        "header": "\U0001f389 Done",
        "fields": ["<strong>Before</strong><br>1024 MB", "After: 256 MB"],
        "accessory": "block-button button-danger",
        "context": '<span class="text context-text">via <code>tunebot</code></span>',
        "dividers": 1,
        "actionsRole": "group",
        "options": ["Pick a size", "512 MB", "1024 MB"],
        "menu": True,
        "menuItems": ["Snooze"],
        "image": "tunebot logo",
        "unknown": "[video block]",
    }


def test_thread_replies_sit_in_their_thread(page: Page, sandbox: Sandbox) -> None:
    act_as(page, "Alice Applier (@alice)")
    parent = sandbox.workspace.post_message(TUNEBOT_CHANNEL.id, "Parent of a thread")
    sandbox.workspace.post_message(TUNEBOT_CHANNEL.id, "A reply in the thread", thread_ts=parent.ts)
    message = page.locator("li.message", has_text="Parent of a thread")
    expect(message).to_be_visible(timeout=CARD_TIMEOUT_MS)
    reply = page.get_by_text("A reply in the thread")
    # As in Slack: the channel shows "1 reply", not the reply itself.
    expect(reply).to_be_hidden()
    toggle = message.get_by_role("button", name="1 reply")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(reply).to_be_visible()
    expect(message.get_by_role("list", name="Thread")).to_contain_text("A reply in the thread")
    shot(page, "8-thread")


def test_a_reload_drops_ephemeral_messages(page: Page, sandbox: Sandbox) -> None:
    note = "Only Alice sees this note"
    sandbox.workspace.post_message(TUNEBOT_CHANNEL.id, note, ephemeral_to=ALICE.id)
    expect(page.get_by_text(note)).to_be_visible(timeout=CARD_TIMEOUT_MS)
    page.reload()
    expect(page.locator("li.message", has_text="Parent of a thread")).to_be_visible(
        timeout=CARD_TIMEOUT_MS
    )
    expect(page.get_by_text(note)).to_have_count(0)
    assert all(message.ephemeral_to is None for message in sandbox.workspace.messages)


def test_a_late_acknowledgement_shows_slacks_error(page: Page, sandbox: Sandbox) -> None:
    assert sandbox.server is not None and sandbox.server.bridge is not None
    bridge = sandbox.server.bridge
    bridge.ack_deadline_s = 0.0  # every ack is late: the handler always takes some time
    try:
        act_as(page, "Alice Applier (@alice)")
        composer = page.get_by_label("Message #tunebot")
        composer.fill("/tune checkout-api")
        composer.press("Enter")
        error = page.get_by_role("alert").filter(has_text="operation_timeout")
        expect(error).to_have_text(
            '/tune failed with the error "operation_timeout" · Only visible to you',
            timeout=CARD_TIMEOUT_MS,
        )
        shot(page, "9-late-ack")
    finally:
        bridge.ack_deadline_s = ACK_DEADLINE_S
