"""The notebooks' exercises: one module per notebook (``nb01`` … ``nb06``), each with ``check(n, result)``.

A checker says whether a learner's result shows what the exercise asks (✔), not yet (✘, with a
hint), or is not attempted (·); the solutions notebooks run every checker on their answers.
Reference answers live here too, away from the lessons' companions, so that a notebook's
``lesson`` does not hand out an exercise's answer.
"""
