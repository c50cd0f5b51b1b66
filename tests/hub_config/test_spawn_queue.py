"""The spawn line: capacity honoured, first come first served, places reported, no lost slots."""

import asyncio

from hub_config.spawn_queue import SpawnQueue


def test_capacity_order_and_positions():
    async def scenario():
        queue = SpawnQueue(capacity=2)
        started: list[str] = []

        async def student(name: str) -> None:
            await queue.acquire(name)
            started.append(name)

        tasks = [asyncio.create_task(student(f"s{i}")) for i in range(5)]
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert started == ["s0", "s1"] and queue.running == 2
        assert [queue.position(f"s{i}") for i in range(5)] == [None, None, 1, 2, 3]
        queue.release("s0")
        await asyncio.sleep(0)
        assert started == ["s0", "s1", "s2"] and queue.position("s4") == 2
        for name in ("s1", "s2", "s3"):
            queue.release(name)
            await asyncio.sleep(0)
        await asyncio.gather(*tasks)
        assert started == ["s0", "s1", "s2", "s3", "s4"]
        queue.release("s4")
        assert queue.running == 0 and queue.waiting == 0

    asyncio.run(scenario())


def test_a_student_who_leaves_the_line_frees_their_place():
    async def scenario():
        queue = SpawnQueue(capacity=1)
        await queue.acquire("first")
        leaving = asyncio.create_task(queue.acquire("leaving"))
        staying = asyncio.create_task(queue.acquire("staying"))
        await asyncio.sleep(0)
        leaving.cancel()
        await asyncio.sleep(0)
        assert queue.position("staying") == 1
        queue.release("first")
        await asyncio.wait_for(staying, 1)
        assert queue.running == 1 and queue.waiting == 0

    asyncio.run(scenario())


def test_release_is_idempotent_and_reacquire_by_running_key_is_free():
    async def scenario():
        queue = SpawnQueue(capacity=1)
        await queue.acquire("a")
        await queue.acquire("a")  # the same server asking again does not wait for itself
        queue.release("a")
        queue.release("a")
        assert queue.running == 0

    asyncio.run(scenario())
