"""Read models: each projection applies case events to SQL tables and knows nothing of Kafka.

The same code serves the Kafka-fed runners and rebuilds from the event store."""
