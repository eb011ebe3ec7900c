"""Pure pieces: list Merkle trees, blend shares, the token bucket, coarse places."""

from __future__ import annotations

import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from api.trace import merkle_list
from api.trace.blending.service import shares_bp
from api.trace.resolver.geo import nearest_city
from api.trace.resolver.ratelimit import TokenBuckets, client_address
from ledger.merkle import inclusion_proof, root, verify_inclusion


@given(st.integers(min_value=1, max_value=300), st.data())
def test_packed_subtrees_give_rfc6962_proofs(size: int, data: st.DataObject) -> None:
    leaves = [merkle_list.item_leaf(f"/01/x/21/{i}") for i in range(size)]
    tree = merkle_list.build(leaves)
    assert tree.root == root(leaves) and tree.size == size
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    ids = merkle_list.proof_nodes(index, size)
    proof = merkle_list.proof(index, size, merkle_list.unpack(tree.nodes, size, ids))
    assert proof == inclusion_proof(leaves, index, size)
    verify_inclusion(leaves[index], index, size, proof, tree.root)


@given(st.lists(st.integers(min_value=1, max_value=10**12), min_size=1, max_size=30))
def test_blend_shares_sum_to_exactly_ten_thousand(volumes: list[int]) -> None:
    shares = shares_bp(volumes)
    assert sum(shares) == 10_000
    total = sum(volumes)
    for v, s in zip(volumes, shares, strict=True):
        assert abs(s - v * 10_000 / total) < 1


def test_token_bucket_refills_per_client() -> None:
    buckets = TokenBuckets(rate_per_s=2.0, burst=3)
    assert [buckets.take("a", now=0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a", now=0.0) == 0.5
    assert buckets.take("b", now=0.0) == 0.0
    assert buckets.take("a", now=0.5) == 0.0


def test_positions_become_cities_or_nothing() -> None:
    chengdu = nearest_city(30.66, 104.06)
    assert chengdu is not None and (chengdu.name, chengdu.province) == ("成都", "四川")
    assert nearest_city(0.0, 0.0) is None


def test_client_address_believes_forwarded_for_only_from_trusted_proxies() -> None:
    trusted = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1/128")]
    assert client_address("10.0.0.1", "203.0.113.7", trusted) == "203.0.113.7"
    assert client_address("::1", "203.0.113.7, 10.2.2.2", trusted) == "203.0.113.7"
    # The client may write anything left of what the proxy appended: that is not believed.
    assert client_address("10.0.0.1", "6.6.6.6, 203.0.113.7", trusted) == "203.0.113.7"
    # Not from a trusted proxy, or no proxy configured: the peer itself.
    assert client_address("192.0.2.1", "203.0.113.7", trusted) == "192.0.2.1"
    assert client_address("10.0.0.1", "203.0.113.7", []) == "10.0.0.1"
    assert client_address("10.0.0.1", None, trusted) == "10.0.0.1"
    # Only proxies in the chain: the left-most hop is the client.
    assert client_address("10.0.0.1", "10.3.3.3, 10.4.4.4", trusted) == "10.3.3.3"
    assert client_address(None, "203.0.113.7", trusted) == "unknown"
