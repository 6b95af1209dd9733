package postgressink_test

const childEnv = "STAGETRACE_POSTGRESSINK_CHILD"

func childWriter(url string) int { return 0 }
