"""``python -m autograd``: a worked chain-rule example, checked against finite differences."""

from autograd import Value, gradcheck


def main() -> None:
    x, w, b = Value(0.5, "x"), Value(-1.5, "w"), Value(0.25, "b")
    y = (w * x + b).tanh()
    y.backward()
    print(f"y = tanh(w*x + b) = {y.data:.6f}")
    print(f"dy/dw = (1 - y^2) * x = {w.grad:.6f}   dy/dx = {x.grad:.6f}   dy/db = {b.grad:.6f}")
    ok = gradcheck(lambda x, w, b: (w * x + b).tanh(), [x.data, w.data, b.data], order=2)
    print(f"gradcheck against central finite differences (1st and 2nd order): {ok}")


if __name__ == "__main__":
    main()
