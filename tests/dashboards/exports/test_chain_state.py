"""A bundle says whether the site's audit chain verified when it was made, and carries a
checkpoint signed then only when it did."""

import psycopg

from dashboards.exports.service import chain_state
from tests.logbook.scenario import full_shift
from tests.logbook.test_audit_chain import tampering


async def test_a_sound_chain_is_checkpointed_into_the_bundle(api):
    await full_shift(api)
    async with await psycopg.AsyncConnection.connect(api.db_url, autocommit=True) as conn:
        head, chain, checkpoint = await chain_state(conn, api.data_dir)
    assert chain == {"verified": True, "rows": head["seq"], "problem": None}
    assert checkpoint is not None and checkpoint["checkpoint"]["seq"] == head["seq"]
    assert (api.data_dir / "checkpoints" / "latest.json").exists()


async def test_a_broken_chain_is_said_and_not_checkpointed(api):
    await full_shift(api)
    with tampering(api.owner_url, "audit_log") as conn:
        conn.execute("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 4")
    async with await psycopg.AsyncConnection.connect(api.db_url, autocommit=True) as conn:
        head, chain, checkpoint = await chain_state(conn, api.data_dir)
    assert chain["verified"] is False
    assert chain["problem"].startswith("the audit chain breaks at seq 4:")
    assert checkpoint is None
    assert not (api.data_dir / "checkpoints").exists()
