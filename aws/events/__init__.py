"""Our own models of the AWS events tunebot reacts to (Powertools Parser has none for these).

``envelopes`` unwraps what Lambda receives (SNS records, EventBridge events, alarm actions);
``alarm`` and ``cost_anomaly`` turn the payload inside into one normalised, frozen value each;
``targets`` finds the Lambda functions an alarm is about.
"""
