"""Tasks started by a widget can be cancelled from another thread (a kernel subshell's)."""

from __future__ import annotations

import asyncio
import contextlib
import threading

from coop_widgets._context import Tasks


def test_a_task_is_cancelled_from_another_thread():
    loop = asyncio.new_event_loop()
    started = threading.Event()
    errors: list[BaseException] = []
    tasks = Tasks(errors.append)

    async def wait_long() -> None:
        started.set()
        await asyncio.sleep(3600)

    async def main() -> None:
        task = tasks.start(wait_long())
        with contextlib.suppress(asyncio.CancelledError):
            await task

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),))
    thread.start()
    try:
        assert started.wait(60)
        tasks.cancel()  # from this thread, while the loop sleeps in its selector
        thread.join(60)
        assert not thread.is_alive(), "the loop never woke to cancel its task"
        assert not tasks.busy and not errors
    finally:
        if thread.is_alive():
            loop.call_soon_threadsafe(loop.stop)
            thread.join(60)
        loop.close()
