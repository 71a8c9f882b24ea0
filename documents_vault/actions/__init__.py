"""Every change to the document safe, one use-case module each (callers import from the
module): `files` (sealing, reading and shredding file versions), `uploads` (add, replace,
delete), `access` (downloads, staff reads, export), `sharing` (shares with files, the
pick-or-upload other apps call), `verification` (the clerks' queue), `maintenance` (orphan
sweep, master-key rotation, expiry reminders)."""
