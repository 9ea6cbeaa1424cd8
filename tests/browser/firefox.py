"""The inspector page in Firefox: headless, driven through its own WebDriver BiDi endpoint
(Firefox has it built in; no geckodriver), as a person would use it.

Usage: python firefox.py BIDI_URL PAGE_URL USER PASSWORD

The server at PAGE_URL holds the segment /infra/segments/web; the script logs in, follows
the events stream, opens the segment, changes it through the API and sees the diff of its two
revisions, and opens the test environment. Prints one line per check and a closing
"N passed, M failed"; a JavaScript error the page logged is a failure.
"""

import asyncio
import base64
import json
import sys
import urllib.request

import websockets


class Page:
    def __init__(self, socket):
        self.socket = socket
        self.sent = 0
        self.errors = []

    async def call(self, method, params):
        self.sent += 1
        mine = self.sent
        await self.socket.send(json.dumps({"id": mine, "method": method, "params": params}))
        while True:
            message = json.loads(await self.socket.recv())
            if message.get("method") == "log.entryAdded":
                if message["params"].get("level") == "error":
                    self.errors.append(message["params"].get("text"))
            elif message.get("id") == mine:
                if message.get("type") == "error":
                    raise RuntimeError(message)
                return message["result"]

    async def js(self, expression):
        result = await self.call("script.evaluate", {
            "expression": expression, "target": {"context": self.context}, "awaitPromise": True})
        return result.get("result", {}).get("value")

    async def until(self, expression):
        for _ in range(150):
            if await self.js(expression):
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"never true: {expression}\n{await self.js('document.body.innerText')}")


async def drive(bidi_url, page_url, user, password):
    passed, failed = 0, 0
    async with websockets.connect(bidi_url, max_size=None) as socket:
        page = Page(socket)
        await page.call("session.new", {"capabilities": {}})
        await page.call("session.subscribe", {"events": ["log.entryAdded"]})
        page.context = (await page.call("browsingContext.getTree", {}))["contexts"][0]["context"]
        await page.call("browsingContext.navigate",
                        {"context": page.context, "url": page_url, "wait": "complete"})
        api = page_url.split("/store/ui/")[0] + "/policy/api/v1/infra/segments/web"
        credentials = base64.b64encode(f"{user}:{password}".encode()).decode()

        async def change_through_the_api():
            request = urllib.request.Request(api, method="PATCH", data=b'{"description": "second"}',
                                             headers={"Content-Type": "application/json",
                                                      "Authorization": f"Basic {credentials}"})
            urllib.request.urlopen(request)

        checks = [
            ("logs in", f"""(() => {{ document.querySelector('#user').value = {json.dumps(user)};
                document.querySelector('#password').value = {json.dumps(password)};
                document.querySelector('#login button').click(); return true; }})()""",
             f"document.querySelector('#who').textContent.includes({json.dumps(user)})"),
            ("follows the events stream", None, "document.querySelector('#live').textContent === 'live'"),
            ("shows the tree", None, "[...document.querySelectorAll('#tree button.collection')]"
                                     ".some(b => b.textContent.trim() === 'Segment')"),
            ("opens a collection", "[...document.querySelectorAll('#tree button.collection')]"
                                   ".find(b => b.textContent.trim() === 'Segment').click() || true",
             "[...document.querySelectorAll('#tree button.open-object')]"
             ".some(b => b.textContent.trim() === 'web')"),
            ("opens an object", "[...document.querySelectorAll('#tree button.open-object')]"
                                ".find(b => b.textContent.trim() === 'web').click() || true",
             "document.querySelector('#object-path')?.textContent === '/infra/segments/web'"),
            ("shows the diff of a change made through the API", change_through_the_api,
             "[...document.querySelectorAll('#diff li')].some(li => li.textContent.includes("
             "'changed description'))"),
            ("opens the test environment",
             "document.querySelector('#tabs button[data-tab=environment]').click() || true",
             "document.querySelector('#determinism').textContent.includes('clock')"),
        ]
        for label, action, expected in checks:
            try:
                if callable(action):
                    await action()
                elif action:
                    await page.js(action)
                await page.until(expected)
                passed += 1
                print(f"ok   {label}")
            except Exception as error:  # noqa: BLE001 - every failure is reported, then counted
                failed += 1
                print(f"FAIL {label}: {error}")
        await asyncio.sleep(0.3)
        await page.js("true")  # drains the log events that came meanwhile
        if page.errors:
            failed += 1
            print(f"FAIL JavaScript errors: {page.errors}")
        else:
            passed += 1
            print("ok   no JavaScript error")
    print(f"firefox: {passed} passed, {failed} failed")
    return failed == 0


if __name__ == "__main__":
    sys.exit(0 if asyncio.run(drive(*sys.argv[1:5])) else 1)
