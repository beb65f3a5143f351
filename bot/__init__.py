"""The Slack side: Bolt app, cards, approvals. Talks to AWS only through its own interface."""
