"""A facilitator's room: the buckets, each attendee's record, the room's table and page."""
