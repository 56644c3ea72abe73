"""DeltaTraceDB's side of tabula's DeltaTraceDB peer benchmark.

Mirrors ``tests/test_speed.py`` of the ``delta-trace-db`` package (same ``User`` class, same
queries, same object conversions) for the seven steps both sides run: add, getAll, save, load,
search, update, delete. The steps the original also times but tabula's side does not
(search paging, searchOne, updateOne, conformToTemplate, deleteOne, add with serialKey) are
left out. Each step is timed with ``time.perf_counter``.

Usage: ``python3 deltatrace_speed.py N``. Prints one line of JSON on stdout::

    {"version": "<package version>", "records": N, "steps": [["add", seconds], ...]}

and exits non-zero (with the reason on stderr) if any step fails or returns the wrong count.
"""

import json
import sys
import time
from copy import deepcopy
from datetime import datetime
from importlib.metadata import version

from file_state_manager.cloneable_file import CloneableFile
from delta_trace_db.db.delta_trace_db_core import DeltaTraceDatabase
from delta_trace_db.query.nodes.comparison_node import (
    FieldEquals,
    FieldGreaterThan,
    FieldStartsWith,
)
from delta_trace_db.query.nodes.logical_node import OrNode
from delta_trace_db.query.query_builder import QueryBuilder
from delta_trace_db.query.sort.single_sort import SingleSort


class User(CloneableFile):
    """The record, exactly as in the package's test_speed.py."""

    def __init__(self, id_, name, age, created_at, updated_at, nested_obj):
        super().__init__()
        self.id = id_
        self.name = name
        self.age = age
        self.created_at = created_at
        self.updated_at = updated_at
        self.nested_obj = nested_obj

    @classmethod
    def from_dict(cls, src):
        return cls(
            id_=src["id"],
            name=src["name"],
            age=src["age"],
            created_at=datetime.fromisoformat(src["createdAt"]),
            updated_at=datetime.fromisoformat(src["updatedAt"]),
            nested_obj=deepcopy(src["nestedObj"]),
        )

    def to_dict(self):
        return {
            "id": self.id,
            "name": self.name,
            "age": self.age,
            "createdAt": self.created_at.isoformat(),
            "updatedAt": datetime.now().isoformat(),
            "nestedObj": deepcopy(self.nested_obj),
        }

    def clone(self):
        return User.from_dict(self.to_dict())


def check(condition, message):
    """An assert that survives ``python3 -O``: the counts are the benchmark's correctness check."""
    if not condition:
        raise AssertionError(message)


def expected_deleted(n):
    """How many records have age > n // 2 once the update step set two of them to n + 1."""
    updated = {n // 2 - 1, n - 1}
    return sum(1 for i in range(n) if (n + 1 if i in updated else i) > n // 2)


def run(n):
    steps = []

    def timed(name, step):
        start = time.perf_counter()
        result = step()
        steps.append([name, time.perf_counter() - start])
        return result

    now = datetime.now()
    db = DeltaTraceDatabase()
    users = [
        User(
            id_=str(i),
            name=f"sample{i}",
            age=i,
            created_at=now,
            updated_at=now,
            nested_obj={"num": i},
        )
        for i in range(n)
    ]

    # add
    q1 = QueryBuilder.add(target="users", add_data=users).build()
    r1 = timed("add", lambda: db.execute_query(q1))
    check(r1.is_success, f"add failed: {r1.error_message}")
    check(r1.db_length == n, f"add: the collection holds {r1.db_length}, not {n}")

    # getAll (with object convert)
    q1_get = QueryBuilder.get_all(target="users").build()

    def get_all():
        r = db.execute_query(q1_get)
        return r, r.convert(User.from_dict)

    r1_get, all_users = timed("getAll", get_all)
    check(r1_get.is_success, f"getAll failed: {r1_get.error_message}")
    check(len(all_users) == n, f"getAll returned {len(all_users)}, not {n}")

    # save (with json string convert)
    json_str = timed("save", lambda: json.dumps(db.to_dict()))

    # load (with json string convert)
    loaded = timed("load", lambda: DeltaTraceDatabase.from_dict(json.loads(json_str)))
    users_loaded = loaded.find_collection("users")
    check(
        users_loaded is not None and users_loaded.length == n,
        "load: the loaded database does not hold every record",
    )

    # search (with object convert)
    q2 = QueryBuilder.search(
        target="users",
        query_node=FieldStartsWith("name", "sample"),
        sort_obj=SingleSort(field="age"),
    ).build()

    def search():
        r = db.execute_query(q2)
        return r, r.convert(User.from_dict)

    r2, found = timed("search", search)
    check(r2.is_success, f"search failed: {r2.error_message}")
    check(len(found) == n, f"search returned {len(found)}, not {n}")
    check(
        all(a.age <= b.age for a, b in zip(found, found[1:])),
        "search: not sorted by age",
    )

    # update at half index and last index object
    q3 = QueryBuilder.update(
        target="users",
        query_node=OrNode(
            [
                FieldEquals("name", f"sample{(n // 2) - 1}"),
                FieldEquals("name", f"sample{n - 1}"),
            ]
        ),
        override_data={"age": n + 1},
        return_data=False,
        sort_obj=SingleSort(field="id"),
    ).build()
    r3 = timed("update", lambda: db.execute_query(q3))
    check(r3.is_success, f"update failed: {r3.error_message}")
    updated = len({n // 2 - 1, n - 1} & set(range(n)))
    check(r3.update_count == updated, f"update changed {r3.update_count}, not {updated}")

    # delete (with object convert)
    q6 = QueryBuilder.delete(
        target="users",
        query_node=FieldGreaterThan("age", n // 2),
        sort_obj=SingleSort(field="id"),
        return_data=True,
    ).build()

    def delete():
        r = db.execute_query(q6)
        return r, r.convert(User.from_dict)

    r6, deleted = timed("delete", delete)
    check(r6.is_success, f"delete failed: {r6.error_message}")
    want = expected_deleted(n)
    check(len(deleted) == want, f"delete returned {len(deleted)}, not {want}")
    check(r6.db_length == n - want, f"delete left {r6.db_length}, not {n - want}")

    return steps


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: deltatrace_speed.py RECORDS")
    n = int(sys.argv[1])
    if n < 1:
        sys.exit("RECORDS must be at least 1")
    steps = run(n)
    print(
        json.dumps(
            {"version": version("delta-trace-db"), "records": n, "steps": steps}
        )
    )


if __name__ == "__main__":
    main()
