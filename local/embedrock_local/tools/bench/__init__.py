"""The benchmark behind `embedrock bench`: which model, which dimension -- measured."""
