import pytest


@pytest.mark.e2e
def test_probe(open_page):
    page, problems = open_page()
    msgs = []
    page.on("console", lambda m: msgs.append((m.type, m.text, m.location)))
    page.goto("/")
    page.evaluate("""() => { const s = document.createElement('script'); s.textContent = 'window.x=1'; document.body.appendChild(s);
      const d = document.createElement('div'); d.setAttribute('style', 'color:red'); document.body.appendChild(d); }""")
    page.wait_for_timeout(500)
    print("MSGS", msgs)
    print("PROBLEMS", problems)
