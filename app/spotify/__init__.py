"""The Spotify Web API part of the artist stats: sign-in, the API gateway, snapshots, syncing.

- :mod:`app.spotify.tokens`: tokens live only in the OS keyring (a spotipy cache handler).
- :mod:`app.spotify.auth`: Authorization Code with PKCE through a loopback redirect.
- :mod:`app.spotify.api`: every Web API call, with rate limits and retries handled here.
- :mod:`app.spotify.store`: timestamped snapshots in SQLite, and the small state kept between runs.
- :mod:`app.spotify.sync`: one sync: fetch, then store one snapshot.

Nothing here imports Qt; the Stats room runs these calls in a worker thread.
"""
