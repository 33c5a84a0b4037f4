"""A stand-in for the Dispatcharr client in unit tests of the manager: answers from Python functions."""
from __future__ import annotations


class StubResponse:
    def __init__(self, status_code: int, body=None):
        self.status_code = status_code
        self.body = body

    def json(self):
        if isinstance(self.body, (dict, list)):
            return self.body
        raise ValueError("not JSON")


class StubClient:
    def __init__(self):
        self.routes = {}
        self.calls = []

    def on(self, method, endpoint, *answers):
        """Answer with each given (status, body) in turn (the last one repeats), or with a callable(json)."""
        self.routes[(method, endpoint)] = list(answers)
        return self

    def request(self, method, endpoint, data=None, params=None, json=None, raw=False, headers=None):
        assert raw, "the manager must ask for raw responses"
        self.calls.append((method, endpoint, json))
        answers = self.routes.get((method, endpoint))
        if not answers:
            return StubResponse(404, {"detail": "Not found."})
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            answer = answer(json)
        return StubResponse(*answer)
