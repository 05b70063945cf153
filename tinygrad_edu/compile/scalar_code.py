class ScalarStep:
    pass
